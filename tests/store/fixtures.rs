use serde_json::{Value, json};
use workflows_domain::{Actor, NewWorkflow, Workflow};
use workflows_tests::workflows_store::Store;

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
    store
        .create_workflow(actor, new_workflow(&body(name)))
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
