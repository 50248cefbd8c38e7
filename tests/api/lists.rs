use crate::client::{API, app, call, cast};
use crate::workflows::front_end_body;
use actix_web::http::{Method, StatusCode};
use serde_json::json;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    pages_link_absolutely_and_keep_other_parameters,
    pagination_edges,
    bad_filter_and_ordering_values_name_the_parameter,
    filters_and_ordering_through_http,
);

async fn create_many(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    token: &str,
    n: usize,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut body = front_end_body();
        body["name"] = json!(format!("flow {i:02}"));
        let reply = call(
            app,
            Method::POST,
            &format!("{API}/workflows/"),
            Some(token),
            Some(body),
        )
        .await;
        ids.push(reply.body["id"].as_i64().expect("id"));
    }
    ids
}

async fn pages_link_absolutely_and_keep_other_parameters(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    create_many(&app, &c.alice.token, 5).await;
    let page = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?project_id=123&page=2&page_size=2&ordering=name"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["count"], json!(5));
    assert_eq!(
        page.body["next"],
        json!(format!(
            "http://localhost:8080{API}/workflows/?page=3&page_size=2&project_id=123&ordering=name"
        ))
    );
    assert_eq!(
        page.body["previous"],
        json!(format!(
            "http://localhost:8080{API}/workflows/?page=1&page_size=2&project_id=123&ordering=name"
        ))
    );
    let names: Vec<_> = page.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|w| w["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("flow 02"), json!("flow 03")]);
    let last = call(
        &app,
        Method::GET,
        &format!("{API}/workflows?page=3&page_size=2"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (
            last.body["next"].clone(),
            last.body["results"].as_array().map(Vec::len)
        ),
        (json!(null), Some(1))
    );
    let first = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        (first.body["previous"].clone(), first.body["next"].clone()),
        (json!(null), json!(null))
    );
}

async fn pagination_edges(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let empty = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        empty.body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    create_many(&app, &c.alice.token, 3).await;
    for page in ["3", "0", "-1", "abc", "", "99999999999999999999999"] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/workflows/?page={page}&page_size=2"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(
            (reply.status, reply.detail()),
            (StatusCode::NOT_FOUND, "Invalid page."),
            "page={page}"
        );
    }
    for size in ["0", "101", "-5", "x"] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/workflows/?page_size={size}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "page_size={size}");
        assert!(reply.body["page_size"].is_array(), "{}", reply.body);
    }
    let max = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?page_size=100"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(max.status, StatusCode::OK);
}

async fn bad_filter_and_ordering_values_name_the_parameter(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    for (query, field) in [
        ("project_id=abc", "project_id"),
        ("project_id=2147483648", "project_id"),
        ("is_active=maybe", "is_active"),
        ("user_id=x", "user_id"),
        ("ordering=password", "ordering"),
        ("ordering=-", "ordering"),
        ("search=a%00b", "search"),
        ("project_id=", "project_id"),
        ("is_active=", "is_active"),
        ("page_size=", "page_size"),
    ] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/workflows/?{query}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field].is_array(), "{query}: {}", reply.body);
    }
    for (query, field) in [
        ("status=Running", "status"),
        ("status=running,done", "status"),
        ("workflow_id=1.5", "workflow_id"),
        ("ordering=name", "ordering"),
    ] {
        let reply = call(
            &app,
            Method::GET,
            &format!("{API}/runs/?{query}"),
            Some(&c.alice.token),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field].is_array(), "{query}: {}", reply.body);
    }
    let unknown = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?whatever=1&app_name=&search=&ordering="),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::OK,
        "unknown parameters and empty text filters are ignored"
    );
    let integral = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?project_id=123.0&page_size=5.00"),
        Some(&c.alice.token),
        None,
    )
    .await;
    assert_eq!(
        integral.status,
        StatusCode::OK,
        "integers may be written as DRF reads them"
    );
}

async fn filters_and_ordering_through_http(db: TestDb) {
    let c = cast(&db).await;
    let app = app(&db).await;
    let ids = create_many(&app, &c.alice.token, 3).await;
    let mut other = front_end_body();
    other["molecules_used"] = json!(["special"]);
    other["atoms_in_molecules"] = json!({"special": ["rare-atom"]});
    other["dag_spec"] = json!({});
    other["name"] = json!("100% special_case");
    let special = call(
        &app,
        Method::POST,
        &format!("{API}/workflows/"),
        Some(&c.alice.token),
        Some(other),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("id");
    call(
        &app,
        Method::POST,
        &format!("{API}/workflows/{}/execute/", ids[1]),
        Some(&c.alice.token),
        None,
    )
    .await;
    let found = |query: String| {
        let app = &app;
        let token = c.alice.token.clone();
        async move {
            let reply = call(
                app,
                Method::GET,
                &format!("{API}/workflows/?{query}"),
                Some(&token),
                None,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}");
            reply.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|w| w["id"].as_i64().expect("id"))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("molecule=special".into()).await, vec![special]);
    assert_eq!(found("atom=rare-atom".into()).await, vec![special]);
    assert_eq!(found("atom=csv-reader&ordering=id".into()).await, ids);
    assert_eq!(found("search=100%25".into()).await, vec![special]);
    assert_eq!(found("search=SPECIAL_".into()).await, vec![special]);
    assert_eq!(found("ordering=-execution_count".into()).await[0], ids[1]);
    assert_eq!(found("ordering=last_executed_at".into()).await[0], ids[1]);
    assert_eq!(found("ordering=-last_executed_at".into()).await[0], ids[1]);
    assert_eq!(found("is_active=false".into()).await, Vec::<i64>::new());
    assert_eq!(
        found(format!("user_id={}", c.bob.user.id)).await.len(),
        4,
        "regular users always list their own"
    );
    let staff = call(
        &app,
        Method::GET,
        &format!("{API}/workflows/?user_id={}", c.bob.user.id),
        Some(&c.root.token),
        None,
    )
    .await;
    assert_eq!(staff.body["count"], json!(0));
}
