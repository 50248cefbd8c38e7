//! The live picture of a run kept in `result_data`: per molecule and per atom, status, attempts,
//! times, and output or error.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use workflows_domain::ExecutionPlan;

/// Where a molecule or atom stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Under way.
    Running,
    /// Done well.
    Success,
    /// Done badly.
    Failed,
    /// Not run because something upstream failed (or the run stopped).
    Skipped,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AtomProgress {
    pub atom: String,
    pub status: StepStatus,
    pub attempts: u32,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub output: Option<Value>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MoleculeProgress {
    pub status: StepStatus,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub error: Option<String>,
    pub atoms: Vec<AtomProgress>,
}

/// `{"molecules": {id: MoleculeProgress}}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Progress {
    pub molecules: BTreeMap<String, MoleculeProgress>,
}

impl Progress {
    pub fn new(plan: &ExecutionPlan) -> Self {
        let molecules = plan
            .molecules()
            .iter()
            .map(|m| {
                let atoms = m
                    .atoms
                    .iter()
                    .map(|atom| AtomProgress {
                        atom: atom.clone(),
                        status: StepStatus::Pending,
                        attempts: 0,
                        started_at: None,
                        completed_at: None,
                        output: None,
                        error: None,
                    })
                    .collect();
                let progress = MoleculeProgress {
                    status: StepStatus::Pending,
                    started_at: None,
                    completed_at: None,
                    error: None,
                    atoms,
                };
                (m.id.clone(), progress)
            })
            .collect();
        Self { molecules }
    }

    /// The picture a previous claim left, kept for the molecules and atoms it finished, so a run
    /// taken up again resumes at the first atom that had not completed.
    pub fn resume(plan: &ExecutionPlan, previous: &Value) -> Self {
        let mut progress = Self::new(plan);
        let Some(before) = previous.get("molecules").and_then(Value::as_object) else {
            return progress;
        };
        for (id, molecule) in &mut progress.molecules {
            let Some(old) = before.get(id) else { continue };
            let old_atoms = old.get("atoms").and_then(Value::as_array);
            for (index, atom) in molecule.atoms.iter_mut().enumerate() {
                let Some(done) = old_atoms.and_then(|atoms| atoms.get(index)) else {
                    break;
                };
                let same = done.get("atom").and_then(Value::as_str) == Some(atom.atom.as_str());
                if !same || done.get("status").and_then(Value::as_str) != Some("success") {
                    break;
                }
                atom.status = StepStatus::Success;
                atom.attempts = done
                    .get("attempts")
                    .and_then(Value::as_u64)
                    .map_or(1, |a| a as u32);
                atom.started_at = done
                    .get("started_at")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                atom.completed_at = done
                    .get("completed_at")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                atom.output = Some(done.get("output").cloned().unwrap_or(Value::Null));
            }
            if old.get("status").and_then(Value::as_str) == Some("success")
                && molecule
                    .atoms
                    .iter()
                    .all(|a| a.status == StepStatus::Success)
            {
                molecule.status = StepStatus::Success;
                molecule.started_at = old
                    .get("started_at")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                molecule.completed_at = old
                    .get("completed_at")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
        progress
    }

    /// A finished molecule's output (its last atom's), if it finished.
    pub fn finished_output(&self, id: &str) -> Option<Value> {
        let molecule = self.molecules.get(id)?;
        (molecule.status == StepStatus::Success).then(|| {
            molecule
                .atoms
                .last()
                .and_then(|a| a.output.clone())
                .unwrap_or(Value::Null)
        })
    }

    /// A finished atom's output, if it finished.
    pub fn finished_atom(&self, molecule: &str, index: usize) -> Option<Value> {
        let atom = self.molecules.get(molecule)?.atoms.get(index)?;
        (atom.status == StepStatus::Success).then(|| atom.output.clone().unwrap_or(Value::Null))
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn molecule(&mut self, id: &str) -> Option<&mut MoleculeProgress> {
        self.molecules.get_mut(id)
    }

    pub fn start_molecule(&mut self, id: &str, at: DateTime<Utc>) {
        if let Some(m) = self.molecule(id) {
            m.status = StepStatus::Running;
            m.started_at = Some(stamp(at));
        }
    }

    pub fn end_molecule(
        &mut self,
        id: &str,
        status: StepStatus,
        error: Option<String>,
        at: DateTime<Utc>,
    ) {
        if let Some(m) = self.molecule(id) {
            m.status = status;
            m.error = error;
            m.completed_at = Some(stamp(at));
        }
    }

    pub fn atom(&mut self, molecule: &str, index: usize) -> Option<&mut AtomProgress> {
        self.molecule(molecule).and_then(|m| m.atoms.get_mut(index))
    }

    pub fn start_atom(&mut self, molecule: &str, index: usize, at: DateTime<Utc>) {
        if let Some(a) = self.atom(molecule, index) {
            a.status = StepStatus::Running;
            a.attempts += 1;
            if a.started_at.is_none() {
                a.started_at = Some(stamp(at));
            }
        }
    }

    pub fn end_atom(
        &mut self,
        molecule: &str,
        index: usize,
        outcome: Result<Value, String>,
        at: DateTime<Utc>,
    ) {
        if let Some(a) = self.atom(molecule, index) {
            a.completed_at = Some(stamp(at));
            match outcome {
                Ok(output) => {
                    a.status = StepStatus::Success;
                    a.output = Some(output);
                    a.error = None;
                }
                Err(error) => {
                    a.status = StepStatus::Failed;
                    a.error = Some(error);
                }
            }
        }
    }

    /// Records a failed attempt that will be retried.
    pub fn retry_atom(&mut self, molecule: &str, index: usize, error: String) {
        if let Some(a) = self.atom(molecule, index) {
            a.status = StepStatus::Pending;
            a.error = Some(error);
        }
    }

    /// Marks everything not finished as skipped (a failed or timed-out run).
    pub fn skip_unfinished(&mut self, at: DateTime<Utc>) {
        for m in self.molecules.values_mut() {
            if matches!(m.status, StepStatus::Pending | StepStatus::Running) {
                m.status = StepStatus::Skipped;
                m.completed_at = Some(stamp(at));
                for a in &mut m.atoms {
                    if matches!(a.status, StepStatus::Pending | StepStatus::Running) {
                        a.status = StepStatus::Skipped;
                    }
                }
            }
        }
    }
}
