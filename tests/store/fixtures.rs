use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use workflows_domain::{
    Actor, ExecutionRequest, NewWorkflow, Ordering, PageRequest, RunChanges, RunId, Workflow,
    WorkflowFilter, WorkflowId, WorkflowSortKey,
};
use workflows_tests::workflows_store::{Execution, Store, StoreError};

/// The original front end's payload, with a name of the caller's choice.
pub fn body(name: &str) -> Value {
    json!({
        "project_id": 123,
        "project_name": "Sales Dashboard",
        "name": name,
        "app_name": "Trinity Analytics",
        "molecules_used": ["data-loader", "data-processor"],
        "atoms_in_molecules": {
            "data-loader": ["csv-reader", "excel-reader"],
            "data-processor": ["clean-data", "aggregate"]
        },
        "dag_spec": {
            "nodes": [{"id": "data-loader", "position": {"x": 10, "y": 20}}, {"id": "data-processor"}],
            "edges": [{"id": "e1", "source": "data-loader", "target": "data-processor"}],
            "metadata": {"zoom": 1.25}
        }
    })
}

pub fn new_workflow(body: &Value) -> NewWorkflow {
    NewWorkflow::from_json(body).expect("a valid body")
}

pub async fn create(store: &Store, actor: &Actor, name: &str) -> Workflow {
    create_from(store, actor, &body(name)).await
}

/// A workflow created from a payload of the test's own.
pub async fn create_from(store: &Store, actor: &Actor, body: &Value) -> Workflow {
    store
        .create_workflow(actor, new_workflow(body))
        .await
        .expect("create")
}

/// Alice and Bob (regular users) and Root (staff).
pub struct People {
    pub alice: Actor,
    pub bob: Actor,
    pub root: Actor,
}

pub async fn people(store: &Store) -> People {
    let alice = store
        .create_user("alice", "alice@example.com", false)
        .await
        .expect("alice");
    let bob = store.create_user("bob", "", false).await.expect("bob");
    let root = store.create_user("root", "", true).await.expect("root");
    People {
        alice: alice.actor(),
        bob: bob.actor(),
        root: root.actor(),
    }
}

/// A new run of `workflow` moved to `status`; a finished one completes at `completed(started_at)`.
pub async fn moved_run(
    store: &Store,
    actor: &Actor,
    workflow: WorkflowId,
    status: &str,
    completed: impl FnOnce(DateTime<Utc>) -> DateTime<Utc>,
) -> RunId {
    let Execution::Created(receipt) = store
        .execute_workflow(actor, workflow, ExecutionRequest::default(), None)
        .await
        .expect("execute")
    else {
        panic!("a new run");
    };
    let started = store
        .get_run(actor, receipt.run_id)
        .await
        .expect("run")
        .started_at;
    let body = match status {
        "pending" => return receipt.run_id,
        "running" => json!({"status": "running"}),
        _ => json!({"status": status, "completed_at": completed(started).to_rfc3339()}),
    };
    store
        .update_run(
            actor,
            receipt.run_id,
            &RunChanges::from_json(&body).expect("valid"),
        )
        .await
        .expect("move");
    receipt.run_id
}

/// Every page of `actor`'s list, `page_size` at a time, up to the page past the end: the ids in
/// order, and the totals the pages reported (one, when they agree).
pub async fn all_pages(
    store: &Store,
    actor: &Actor,
    filter: &WorkflowFilter,
    ordering: Ordering<WorkflowSortKey>,
    page_size: u64,
) -> (Vec<WorkflowId>, Vec<u64>) {
    let mut ids = Vec::new();
    let mut counts = Vec::new();
    for page in 1.. {
        let page = PageRequest::new(page, page_size).expect("page");
        match store.list_workflows(actor, filter, ordering, page).await {
            Ok(listed) => {
                counts.push(listed.count);
                ids.extend(listed.items.iter().map(|w| w.id));
            }
            Err(StoreError::InvalidPage) => break,
            Err(e) => panic!("list {filter:?}: {e}"),
        }
    }
    counts.dedup();
    (ids, counts)
}

/// Runs `insert` (an `INSERT INTO workflows_workflow … RETURNING id` of another writer's row)
/// and answers the new workflow's id.
pub async fn inserted_workflow(raw: &sea_orm::DatabaseConnection, insert: String) -> WorkflowId {
    use sea_orm::ConnectionTrait;
    raw.query_one_raw(sea_orm::Statement::from_string(
        raw.get_database_backend(),
        insert,
    ))
    .await
    .expect("insert")
    .and_then(|row| row.try_get::<i64>("", "id").ok())
    .map(WorkflowId)
    .expect("inserted")
}
