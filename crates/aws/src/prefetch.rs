//! The prefetch executor: carries out what the core's prefetch plan (or a decision's host
//! action) says is due, against any store ([`fleetpath::LocalArtifactStore`]: the `Send`
//! [`fleetpath::ArtifactStore`]s and single-threaded ones backed by JavaScript promises), and
//! reports what it did.
//!
//! It is safe to run repeatedly (a scheduler every 5 minutes): each object is observed
//! first, so a restore already running is left alone, a restored copy is not restored again,
//! and only archived objects get a `RestoreObject`. One item's failure does not stop the
//! others; it is reported with its code and whether the next run may succeed.
//!
//! ```
//! use fleetpath::{ArtifactStore, Availability, MemoryStore, RestoreTier, RestoreTimes, StorageClass};
//! use fleetpath_aws::prefetch::{Outcome, Task, execute};
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! let store = MemoryStore::new("2026-11-30T07:00:00Z".parse()?, RestoreTimes::default());
//! store.insert("fw/5.6.30.bin", Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
//! let task = Task::restore("fw/5.6.30.bin", RestoreTier::Standard, 7);
//! let first = block_on(execute(&store, std::slice::from_ref(&task)));
//! assert_eq!(first[0].outcome.code(), "restore_requested");
//! let again = block_on(execute(&store, &[task]));          // the next scheduled run
//! assert_eq!(again[0].outcome.code(), "already_restoring"); // no second request
//! assert_eq!(store.restores_requested(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use fleetpath::decision::HostAction;
use fleetpath::prefetch::{PrefetchAction, PrefetchPlan};
use fleetpath::{Availability, LocalArtifactStore, RestoreTier};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// One thing to do about one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The object key.
    pub key: String,
    /// What to do.
    pub kind: TaskKind,
}

/// What a [`Task`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskKind {
    /// Restore it if it is archived.
    Restore {
        /// The tier.
        tier: RestoreTier,
        /// Days the restored copy stays.
        days: u32,
    },
    /// Observe it (an unobserved or missing object).
    Check,
}

impl Task {
    /// A restore task.
    pub fn restore(key: impl Into<String>, tier: RestoreTier, days: u32) -> Self {
        Self { key: key.into(), kind: TaskKind::Restore { tier, days } }
    }

    /// A check task.
    pub fn check(key: impl Into<String>) -> Self {
        Self { key: key.into(), kind: TaskKind::Check }
    }

    /// The tasks a prefetch plan makes due now, in the plan's order (by deadline).
    pub fn from_plan(plan: &PrefetchPlan) -> Vec<Self> {
        plan.due()
            .map(|item| {
                let key = item.artifact.key.clone();
                match item.action {
                    PrefetchAction::Restore { tier, days, .. } | PrefetchAction::Late { tier, days, .. } => {
                        Self::restore(key, tier, days)
                    }
                    PrefetchAction::Missing | PrefetchAction::Check | PrefetchAction::Restoring { .. } => {
                        Self::check(key)
                    }
                }
            })
            .collect()
    }

    /// The task a decision's host action asks for.
    pub fn from_host_action(action: &HostAction) -> Self {
        match action {
            HostAction::RequestRestore { key, tier, days, .. } => Self::restore(key.clone(), *tier, *days),
            HostAction::CheckAvailability { key } | HostAction::ReportMissing { key } => Self::check(key.clone()),
            // An action this version does not know: observe the object.
            other => Self::check(other.key().to_owned()),
        }
    }
}

/// What happened to one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A restore was requested now.
    RestoreRequested {
        /// The object afterwards.
        availability: Availability,
    },
    /// A restore was already running: nothing sent.
    AlreadyRestoring {
        /// The object.
        availability: Availability,
    },
    /// Downloadable already (available, or a restored copy): nothing sent.
    AlreadyDownloadable {
        /// The object.
        availability: Availability,
    },
    /// Observed (a check task on an object that exists).
    Observed {
        /// The object.
        availability: Availability,
    },
    /// The object does not exist: an operator must upload it or fix the manifest.
    Missing,
    /// The store refused or failed.
    Failed {
        /// The store error's code.
        code: String,
        /// Whether the next run may succeed.
        retryable: bool,
        /// The error's message.
        message: String,
    },
}

impl Outcome {
    /// `restore_requested`, `already_restoring`, `already_downloadable`, `observed`, `missing`
    /// or `failed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RestoreRequested { .. } => "restore_requested",
            Self::AlreadyRestoring { .. } => "already_restoring",
            Self::AlreadyDownloadable { .. } => "already_downloadable",
            Self::Observed { .. } => "observed",
            Self::Missing => "missing",
            Self::Failed { .. } => "failed",
        }
    }
}

/// A task and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

fn failed<E: StoreError>(err: &E) -> Outcome {
    Outcome::Failed { code: err.code().to_owned(), retryable: err.is_retryable(), message: err.to_string() }
}

async fn run_one<S>(store: &S, task: &Task) -> Outcome
where
    S: LocalArtifactStore,
    S::Error: StoreError,
{
    let seen = match store.availability(&task.key).await {
        Ok(seen) => seen,
        Err(err) => return failed(&err),
    };
    match (task.kind, seen) {
        (_, Availability::Missing) => Outcome::Missing,
        (TaskKind::Restore { .. }, availability @ Availability::Restoring { .. }) => {
            Outcome::AlreadyRestoring { availability }
        }
        (TaskKind::Restore { .. }, availability @ (Availability::Available { .. } | Availability::Restored { .. })) => {
            Outcome::AlreadyDownloadable { availability }
        }
        (TaskKind::Restore { tier, days }, Availability::Archived { .. }) => {
            match store.request_restore(&task.key, tier, days).await {
                Ok(availability) => Outcome::RestoreRequested { availability },
                Err(err) => failed(&err),
            }
        }
        // A check, or a state this version does not know: report it, restore nothing.
        (_, availability) => Outcome::Observed { availability },
    }
}

/// Runs `tasks` one after the other (restores are few; their order is the plan's deadline
/// order), each key once (the first task for a key wins), and reports each.
pub async fn execute<S>(store: &S, tasks: &[Task]) -> Vec<Report>
where
    S: LocalArtifactStore,
    S::Error: StoreError,
{
    let mut seen = std::collections::HashSet::new();
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        if !seen.insert(task.key.as_str()) {
            continue;
        }
        let outcome = run_one(store, task).await;
        reports.push(Report { task: task.clone(), outcome });
    }
    reports
}

/// Carries out what `plan` makes due now (see [`Task::from_plan`]).
pub async fn execute_plan<S>(store: &S, plan: &PrefetchPlan) -> Vec<Report>
where
    S: LocalArtifactStore,
    S::Error: StoreError,
{
    execute(store, &Task::from_plan(plan)).await
}

#[cfg(test)]
mod tests {
    use fleetpath::{Availability, MemoryStore, RestoreTier, RestoreTimes, StorageClass};

    use super::{Task, execute, execute_plan};

    fn assert_send<T: Send>(_: &T) {}

    /// The executor takes any single-threaded store (a JavaScript one, through wasm), yet its
    /// future stays `Send` for a `Send` store, so multi-threaded hosts can still spawn it.
    #[test]
    fn futures_stay_send_for_send_stores() {
        let store = MemoryStore::new(jiff::Timestamp::UNIX_EPOCH, RestoreTimes::default());
        store.insert("fw/a.bin", Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
        let tasks = [Task::restore("fw/a.bin", RestoreTier::Standard, 1)];
        let run = execute(&store, &tasks);
        assert_send(&run);
        let plan = fleetpath::prefetch::PrefetchPlan {
            at: jiff::Timestamp::UNIX_EPOCH,
            stages: Vec::new(),
            items: Vec::new(),
            ready: 0,
        };
        assert_send(&execute_plan(&store, &plan));
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let std::task::Poll::Ready(reports) = std::pin::pin!(run).as_mut().poll(&mut cx) else {
            panic!("a memory store answers at once")
        };
        assert_eq!(reports[0].outcome.code(), "restore_requested");
    }
}
