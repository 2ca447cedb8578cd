//! Unit tests of a run on the file backend: rounds and waves, the order of events and writes,
//! the automatic rollback and its journal, undo decisions, and verification on paused time.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sharedbox_file::{FileTenant, TenantFile};
use sharedbox_planner::{Action, Change, Plan, PlanOptions, Wave};
use sharedbox_tenant::{
    Operation, Property, ReadScope, Snapshot, Tenant, TenantError, Value, normalized, target,
};

use super::*;
use crate::journal::{Actor, Journal, Record, RunKind, RunLog, RunOutcome, UndoStatus};
use crate::rollback::rollback_run;

const TENANT: &str = include_str!("../../../cli/tests/fixtures/tenant.yaml");
const HEADER: &str = "apiVersion: sharedbox/v1\nkind: SharedMailbox\n";

/// A create (with a grant on the new mailbox), properties on two mailboxes and the tenant,
/// a grant and a revocation: every wave, and three property steps on `support`.
const EVERY_WAVE: &[(&str, &str)] = &[
    (
        "support.yaml",
        "mailbox: support@fabrikam.com\ndisplayName: Support Team\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true}\nsendAs: [anna@fabrikam.com, clara@fabrikam.com]\n",
    ),
    (
        "buchhaltung.yaml",
        "mailbox: buchhaltung@fabrikam.com\nhiddenFromAddressLists: true\n",
    ),
    (
        "neu.yaml",
        "mailbox: neu@fabrikam.com\nsendAs: [helpdesk@fabrikam.com]\n",
    ),
];

/// A tenant file (the CLI tests' fixture, with `simulation`), its policies and a state folder.
struct Fixture {
    dir: tempfile::TempDir,
    tenant: FileTenant,
}

impl Fixture {
    fn new(simulation: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.yaml");
        std::fs::write(&path, format!("{TENANT}{simulation}")).unwrap();
        let tenant = FileTenant::open(&path).unwrap();
        Fixture { dir, tenant }
    }

    fn state_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    /// The tenant file as it is now, without its simulation bookkeeping.
    fn file(&self) -> TenantFile {
        let path = self.dir.path().join("tenant.yaml");
        let mut file = TenantFile::parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
        file.simulation = None;
        file.mailboxes = file.mailboxes.iter().map(normalized).collect();
        file
    }

    /// The plan of `policies` (file name, mailbox document without its header) for the
    /// tenant as it is, and the snapshot it was made from.
    async fn plan(&self, policies: &[(&str, &str)], tenant_settings: bool) -> (Plan, Snapshot) {
        let folder = self.dir.path().join("policies");
        std::fs::create_dir_all(&folder).unwrap();
        for (name, text) in policies {
            std::fs::write(folder.join(name), format!("{HEADER}{text}")).unwrap();
        }
        if tenant_settings {
            std::fs::write(
                folder.join("tenant.yaml"),
                "apiVersion: sharedbox/v1\nkind: TenantSettings\nsendFromAliasEnabled: true\n",
            )
            .unwrap();
        }
        let policies = sharedbox_policy::load_dir(&folder).unwrap();
        let scope = ReadScope::of(
            policies
                .mailboxes
                .iter()
                .map(|m| m.address.value.clone())
                .collect(),
        );
        let snapshot = self.tenant.read(&scope).await.unwrap();
        let plan = sharedbox_planner::plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
        (plan, snapshot)
    }
}

/// A new journal in `state_dir` with its `start` record.
fn journal(state_dir: &Path, run_id: &str, kind: RunKind, steps: usize) -> Journal {
    let mut journal = Journal::create(state_dir, run_id).unwrap();
    journal
        .write(&Record::Start {
            format_version: Some(crate::FORMAT_VERSION),
            run_id: run_id.to_owned(),
            kind,
            backend: Some("file".to_owned()),
            tenant: "fabrikam.onmicrosoft.com".to_owned(),
            at: crate::now_rfc3339_precise(),
            actor: Actor::current(),
            plan_id: None,
            rollback_of: None,
            steps,
            policy_commit: None,
            heal: false,
        })
        .unwrap();
    journal
}

/// Events and writes, in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Started(usize, String),
    Sent(String),
    Succeeded(usize),
    Failed(usize),
    Waiting(Vec<String>),
    RollingBack,
    Undone(usize, UndoStatus),
    Verifying,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// The file backend, noting every write it is sent in a log shared with the event sink.
struct Recording {
    inner: FileTenant,
    log: Log,
}

#[async_trait::async_trait]
impl Tenant for Recording {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError> {
        self.inner.read(scope).await
    }

    async fn execute(&self, operation: &Operation) -> Result<(), TenantError> {
        self.log.lock().unwrap().push(Seen::Sent(target(operation)));
        self.inner.execute(operation).await
    }

    async fn execute_all(&self, operations: &[Operation]) -> Vec<Result<(), TenantError>> {
        self.log
            .lock()
            .unwrap()
            .extend(operations.iter().map(|o| Seen::Sent(target(o))));
        self.inner.execute_all(operations).await
    }
}

/// An event sink that notes what happened into `log`.
fn recorder(log: &Log) -> impl FnMut(Event<'_>) + use<> {
    let log = log.clone();
    move |event| {
        let seen = match event {
            Event::Started { step, change, .. } => Seen::Started(step, target(&change.operation)),
            Event::Succeeded { step, .. } => Seen::Succeeded(step),
            Event::Failed { step, .. } => Seen::Failed(step),
            Event::WaitingForMailboxes { mailboxes } => Seen::Waiting(mailboxes.to_vec()),
            Event::RollingBack => Seen::RollingBack,
            Event::Undone(item) => Seen::Undone(item.step, item.status),
            Event::Verifying => Seen::Verifying,
        };
        log.lock().unwrap().push(seen);
    }
}

/// Applies `plan` through a [`Recording`] of `fixture`'s tenant, journaled as `run-1`.
async fn apply_recorded(
    fixture: &Fixture,
    plan: &Plan,
    snapshot: &Snapshot,
    options: &ApplyOptions,
) -> (ApplyReport, Vec<Seen>, RunLog) {
    let log: Log = Arc::default();
    let tenant = Recording {
        inner: FileTenant::open(fixture.dir.path().join("tenant.yaml")).unwrap(),
        log: log.clone(),
    };
    let total = plan.ordered_changes().len();
    let mut journal = journal(&fixture.state_dir(), "run-1", RunKind::Apply, total);
    let report = apply(
        &tenant,
        plan,
        snapshot.clone(),
        &mut journal,
        options,
        recorder(&log),
    )
    .await
    .unwrap();
    let seen = log.lock().unwrap().clone();
    (
        report,
        seen,
        RunLog::find(&fixture.state_dir(), "run-1").unwrap(),
    )
}

/// Options that do not wait: polls every millisecond, gives up at once.
fn quick() -> ApplyOptions {
    ApplyOptions {
        verify_timeout: Duration::ZERO,
        poll_interval: Duration::from_millis(1),
        ..ApplyOptions::default()
    }
}

fn property(mailbox: &str) -> Change {
    Change {
        field: "hiddenFromAddressLists".to_owned(),
        action: Action::Update,
        wave: Wave::Properties,
        operation: Operation::set(mailbox.to_owned(), Property::HiddenFromAddressLists, true),
        before: None,
        after: None,
        inverse: None,
        note: None,
        cause: None,
    }
}

#[tokio::test]
async fn rounds_take_one_step_per_mailbox_and_every_step_once_in_plan_order() {
    let fixture = Fixture::new("");
    let (plan, _) = fixture.plan(EVERY_WAVE, true).await;
    let changes = plan.ordered_changes();
    let waves = waves(&changes);
    let kinds: Vec<Wave> = waves.iter().map(|w| changes[w.start].wave).collect();
    assert_eq!(
        kinds,
        [
            Wave::Create,
            Wave::Properties,
            Wave::Grants,
            Wave::Revocations
        ]
    );
    assert_eq!(
        waves.last().unwrap().end,
        changes.len(),
        "the waves cover the plan"
    );
    let key = |i: usize| {
        changes[i]
            .operation
            .mailbox()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    for wave in waves {
        let rounds = rounds(&changes, wave.clone());
        let mut all: Vec<usize> = rounds.iter().flatten().copied().collect();
        for round in &rounds {
            let mut mailboxes: Vec<String> = round.iter().map(|&i| key(i)).collect();
            mailboxes.sort();
            mailboxes.dedup();
            assert_eq!(
                mailboxes.len(),
                round.len(),
                "one step per mailbox: {round:?}"
            );
            assert!(round.is_sorted(), "plan order within a round: {round:?}");
        }
        // A mailbox's steps keep their order across rounds.
        for mailbox in wave.clone().map(key) {
            let order: Vec<usize> = all.iter().copied().filter(|&i| key(i) == mailbox).collect();
            assert!(order.is_sorted(), "{mailbox}: {order:?}");
        }
        let most = wave
            .clone()
            .map(|i| wave.clone().filter(|&j| key(j) == key(i)).count())
            .max()
            .unwrap();
        assert_eq!(
            rounds.len(),
            most,
            "as many rounds as the busiest mailbox has steps"
        );
        all.sort_unstable();
        assert_eq!(all, wave.collect::<Vec<_>>(), "every step exactly once");
    }
    let properties = &rounds(&changes, waves_of(&changes, Wave::Properties));
    assert!(
        properties.len() >= 3 && properties[0].len() >= 3,
        "support's three property steps take three rounds, shared with the others: {properties:?}"
    );
}

fn waves_of(changes: &[&Change], wave: Wave) -> std::ops::Range<usize> {
    waves(changes)
        .into_iter()
        .find(|w| changes[w.start].wave == wave)
        .unwrap()
}

#[test]
fn a_round_holds_at_most_500_steps() {
    let owned: Vec<Change> = (0..1001)
        .map(|i| property(&format!("m{i}@fabrikam.com")))
        .collect();
    let changes: Vec<&Change> = owned.iter().collect();
    let rounds = rounds(&changes, 0..changes.len());
    let sizes: Vec<usize> = rounds.iter().map(Vec::len).collect();
    assert_eq!(sizes, [500, 500, 1]);
    assert_eq!(rounds[0][0], 0);
    assert_eq!(rounds[2], [1000]);
}

#[tokio::test]
async fn every_step_is_started_before_it_is_sent_and_waves_run_in_order() {
    let fixture = Fixture::new("");
    let (plan, snapshot) = fixture.plan(EVERY_WAVE, true).await;
    let changes = plan.ordered_changes();
    let (report, seen, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(report.applied, changes.len());

    for (at, event) in seen.iter().enumerate() {
        match event {
            Seen::Sent(sent) => assert!(
                seen[..at]
                    .iter()
                    .any(|e| matches!(e, Seen::Started(_, t) if t == sent)),
                "`{sent}` was sent before it was started: {seen:#?}"
            ),
            Seen::Succeeded(step) => {
                let step_target = target(&changes[step - 1].operation);
                assert!(
                    seen[..at].contains(&Seen::Sent(step_target)),
                    "step {step} succeeded before it was sent: {seen:#?}"
                );
            }
            _ => {}
        }
    }
    // Steps start wave by wave, and the new mailbox is waited for before its properties.
    let started: Vec<usize> = seen
        .iter()
        .filter_map(|e| match e {
            Seen::Started(step, _) => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), changes.len());
    assert!(
        started
            .windows(2)
            .all(|w| changes[w[0] - 1].wave <= changes[w[1] - 1].wave),
        "{started:?}"
    );
    let waiting = seen
        .iter()
        .position(|e| *e == Seen::Waiting(vec!["neu@fabrikam.com".to_owned()]))
        .expect("waits for the new mailbox");
    let first_property = seen
        .iter()
        .position(
            |e| matches!(e, Seen::Started(step, _) if changes[step - 1].wave == Wave::Properties),
        )
        .unwrap();
    assert!(waiting < first_property, "{seen:#?}");
    assert_eq!(seen.last(), Some(&Seen::Verifying));

    // The journal holds every intent, then its outcome, and a successful end.
    assert_eq!(log.outcome(), Some(RunOutcome::Succeeded));
    let steps = log.steps();
    assert_eq!(steps.len(), changes.len());
    assert!(steps.iter().all(|s| s.ok == Some(true) && s.undo.is_none()));
    let support = fixture
        .file()
        .mailboxes
        .into_iter()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    assert_eq!(support.display_name, "Support Team");
    assert!(support.hidden_from_address_lists_enabled);
    assert!(
        fixture
            .file()
            .mailboxes
            .iter()
            .any(|m| m.primary_smtp_address == "neu@fabrikam.com")
    );
}

#[tokio::test]
async fn a_failed_step_stops_the_run_and_its_round_is_rolled_back_newest_first() {
    // Write 1 creates `neu`, write 3 is in the first round of properties.
    let fixture = Fixture::new("simulation:\n  failOnWrite: 3\n");
    let before = fixture.file();
    let (plan, snapshot) = fixture.plan(EVERY_WAVE, true).await;
    let total = plan.ordered_changes().len();
    let (report, seen, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;

    assert_eq!(report.outcome, RunOutcome::RolledBack);
    let (failed_step, ..) = report.failed.clone().expect("a failed step");
    assert!(
        report
            .undo
            .iter()
            .all(|u| matches!(u.status, UndoStatus::Reverted | UndoStatus::Skipped))
    );
    assert_eq!(
        live(fixture.file()),
        before,
        "the tenant is exactly as before the run"
    );
    let executed = log.steps().len();
    assert_eq!(report.not_run, total - executed, "later rounds never ran");
    assert!(report.not_run > 0);

    let failed_at = seen
        .iter()
        .position(|e| *e == Seen::Failed(failed_step))
        .unwrap();
    let rolling = seen.iter().position(|e| *e == Seen::RollingBack).unwrap();
    assert!(failed_at < rolling);
    let undone: Vec<usize> = seen[rolling..]
        .iter()
        .filter_map(|e| match e {
            Seen::Undone(step, _) => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(undone.len(), executed, "one decision per executed step");
    assert!(
        !seen.contains(&Seen::Verifying),
        "a failed run is not verified"
    );

    // The journal: the failed outcome with its error, a decision for every step, the end.
    assert_eq!(log.outcome(), Some(RunOutcome::RolledBack));
    let failed = log
        .steps()
        .into_iter()
        .find(|s| s.step == failed_step)
        .unwrap();
    assert_eq!(failed.ok, Some(false));
    assert!(
        failed
            .error
            .unwrap()
            .contains("simulated failure of write 3")
    );
    assert!(log.steps().iter().all(|s| s.undo.is_some()));
    let created = log
        .steps()
        .into_iter()
        .find(|s| matches!(s.operation, Operation::CreateMailbox { .. }))
        .unwrap();
    assert_eq!(
        created.undo,
        Some(UndoStatus::Reverted),
        "the new mailbox is removed"
    );
}

/// The undo decision of each step of a run whose values were then changed by others: as the
/// run set it -> reverted; as before the run -> skipped; something else -> conflict; a
/// revocation of an orphaned principal -> irreversible.
#[tokio::test]
async fn undo_reverts_skips_or_leaves_alone_what_it_finds() {
    let fixture = Fixture::new("");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\ndisplayName: Support Team\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true}\nfullAccess: [{principal: anna@fabrikam.com}]\n",
            )],
            false,
        )
        .await;
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(log.steps().len(), 4, "{:#?}", log.steps());

    let set = |property, value: Value| Operation::set("support@fabrikam.com", property, value);
    // Someone puts one value back and changes another to something else.
    let tenant = &fixture.tenant;
    tenant
        .execute(&set(Property::HiddenFromAddressLists, false.into()))
        .await
        .unwrap();
    tenant
        .execute(&set(Property::DisplayName, "Helpdesk".into()))
        .await
        .unwrap();

    let mut rollback = journal(&fixture.state_dir(), "run-2", RunKind::Rollback, 4);
    let mut undone = Vec::new();
    let report = rollback_run(tenant, &log, &mut rollback, |item| {
        undone.push(item.clone())
    })
    .await
    .unwrap();
    let status_of = |field: &str| status_of_in(&report.items, field);
    assert_eq!(status_of("sentItems.copyForSendAs"), UndoStatus::Reverted);
    assert_eq!(status_of("hiddenFromAddressLists"), UndoStatus::Skipped);
    assert_eq!(status_of("displayName"), UndoStatus::Conflict);
    assert_eq!(status_of("fullAccess"), UndoStatus::Irreversible);
    assert_eq!(report.outcome, RunOutcome::RollbackIncomplete);
    assert_eq!(undone.len(), 4, "every decision is reported as it is made");
    let conflict = report
        .items
        .iter()
        .find(|i| i.status == UndoStatus::Conflict)
        .unwrap();
    assert!(
        conflict.detail.as_deref().unwrap().contains("\"Helpdesk\""),
        "{conflict:?}"
    );

    // The tenant: only the value still as the run set it was put back.
    let support = fixture
        .file()
        .mailboxes
        .into_iter()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    assert!(!support.message_copy_for_sent_as_enabled, "reverted");
    assert!(!support.hidden_from_address_lists_enabled, "left as found");
    assert_eq!(
        support.display_name, "Helpdesk",
        "the conflict is left alone"
    );
    assert!(
        !support
            .mailbox_permissions
            .iter()
            .any(|p| p.user.starts_with("S-1-5-21")),
        "the orphan is not granted again"
    );

    // The rollback's journal: one decision per step, the reverted one with its write.
    let journaled = RunLog::find(&fixture.state_dir(), "run-2").unwrap();
    assert_eq!(journaled.outcome(), Some(RunOutcome::RollbackIncomplete));
    let decisions: Vec<(UndoStatus, bool)> = journaled
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Undo {
                status, operation, ..
            } => Some((*status, operation.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(decisions.len(), 4);
    assert!(decisions.contains(&(UndoStatus::Reverted, true)));
    assert_eq!(decisions.iter().filter(|(_, write)| *write).count(), 1);

    // A second rollback finds the reverted value as before the run: it writes nothing.
    let after_first = fixture.file();
    let mut again = journal(&fixture.state_dir(), "run-3", RunKind::Rollback, 4);
    let report = rollback_run(tenant, &log, &mut again, |_| {})
        .await
        .unwrap();
    assert_eq!(
        status_of_in(&report.items, "sentItems.copyForSendAs"),
        UndoStatus::Skipped
    );
    assert_eq!(
        status_of_in(&report.items, "displayName"),
        UndoStatus::Conflict
    );
    assert_eq!(fixture.file(), after_first, "idempotent");
}

fn status_of_in(items: &[UndoItem], field: &str) -> UndoStatus {
    items
        .iter()
        .find(|i| i.field == field)
        .unwrap_or_else(|| panic!("no decision for {field}: {items:#?}"))
        .status
}

/// An undo write the tenant refuses is a failed undo: journaled with its intent and the
/// error, and the rollback is incomplete.
#[tokio::test]
async fn a_refused_undo_write_is_a_failed_undo() {
    // Write 1 is the apply's, write 2 the undo's.
    let fixture = Fixture::new("simulation:\n  failOnWrite: 2\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nsentItems: {copyForSendAs: true}\n",
            )],
            false,
        )
        .await;
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    let mut rollback = journal(&fixture.state_dir(), "run-2", RunKind::Rollback, 1);
    let report = rollback_run(&fixture.tenant, &log, &mut rollback, |_| {})
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RollbackIncomplete);
    let item = &report.items[0];
    assert_eq!(item.status, UndoStatus::Failed);
    assert!(
        item.detail
            .as_deref()
            .unwrap()
            .contains("simulated failure of write 2"),
        "{item:?}"
    );
    assert!(
        fixture.file().mailboxes[0].message_copy_for_sent_as_enabled,
        "still as set"
    );
    let journaled = RunLog::find(&fixture.state_dir(), "run-2").unwrap();
    assert!(
        journaled
            .records
            .iter()
            .any(|r| matches!(r, Record::UndoIntent { step: 1, .. }))
    );
    assert!(journaled.records.iter().any(|r| matches!(
        r,
        Record::Undo {
            step: 1,
            status: UndoStatus::Failed,
            operation: Some(_),
            ..
        }
    )));
}

/// A mailbox the run created is removed by the undo only while it holds no grants: its own
/// grants are reverted first (newest first); one someone else added since keeps it.
#[tokio::test]
async fn a_created_mailbox_that_holds_grants_now_is_left_in_place() {
    let fixture = Fixture::new("");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "neu.yaml",
                "mailbox: neu@fabrikam.com\nsendAs: [helpdesk@fabrikam.com]\n",
            )],
            false,
        )
        .await;
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);

    // Someone gives Anna full access to the new mailbox.
    let directory = fixture.file().directory();
    let anna = directory.resolve_policy("anna@fabrikam.com").unwrap();
    fixture
        .tenant
        .execute(&Operation::GrantFullAccess {
            mailbox: "neu@fabrikam.com".to_owned(),
            principal: sharedbox_tenant::Principal::Recipient {
                id: sharedbox_tenant::PrincipalId::of(anna),
                address: "anna@fabrikam.com".to_owned(),
                app_id: None,
            },
            auto_mapping: false,
        })
        .await
        .unwrap();

    let mut rollback = journal(&fixture.state_dir(), "run-2", RunKind::Rollback, 2);
    let report = rollback_run(&fixture.tenant, &log, &mut rollback, |_| {})
        .await
        .unwrap();
    assert_eq!(status_of_in(&report.items, "sendAs"), UndoStatus::Reverted);
    let create = report
        .items
        .iter()
        .find(|i| matches!(i.operation, Operation::CreateMailbox { .. }))
        .unwrap();
    assert_eq!(create.status, UndoStatus::Conflict);
    assert!(
        create.detail.as_deref().unwrap().contains("holds grants"),
        "{create:?}"
    );
    let neu = fixture
        .file()
        .mailboxes
        .into_iter()
        .find(|m| m.primary_smtp_address == "neu@fabrikam.com")
        .expect("the mailbox stays");
    assert!(
        !neu.recipient_permissions
            .iter()
            .any(|p| p.trustee.contains("helpdesk")),
        "the run's own grant is reverted"
    );

    // Without the foreign grant, the mailbox goes.
    let fixture = Fixture::new("");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "neu.yaml",
                "mailbox: neu@fabrikam.com\nsendAs: [helpdesk@fabrikam.com]\n",
            )],
            false,
        )
        .await;
    let before = fixture.file();
    let (_, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    let mut rollback = journal(&fixture.state_dir(), "run-2", RunKind::Rollback, 2);
    let report = rollback_run(&fixture.tenant, &log, &mut rollback, |_| {})
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::Restored);
    assert_eq!(live(fixture.file()), before);
    assert_eq!(
        fixture.file().soft_deleted_mailboxes[0].primary_smtp_address,
        "neu@fabrikam.com",
        "soft-deleted, never purged"
    );
}

/// The tenant's live objects: a mailbox a rolled-back run created stays soft-deleted
/// (recoverable, never purged), which is not part of what a rollback restores.
fn live(mut file: TenantFile) -> TenantFile {
    file.soft_deleted_mailboxes.clear();
    file
}

/// Verification re-reads on tokio's clock: with paused time it polls past the replication
/// lag (three stale reads after each write) in no real time.
#[tokio::test(start_paused = true)]
async fn verification_polls_until_the_changes_show() {
    let fixture = Fixture::new("simulation:\n  visibilityLagReads: 3\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nsentItems: {copyForSendAs: true, copyForSendOnBehalf: true}\n",
            )],
            false,
        )
        .await;
    let options = ApplyOptions {
        verify_timeout: Duration::from_secs(30),
        poll_interval: Duration::from_secs(2),
        ..ApplyOptions::default()
    };
    let started = tokio::time::Instant::now();
    let (report, _, _) = apply_recorded(&fixture, &plan, &snapshot, &options).await;
    let verification = report.verification.unwrap();
    assert_eq!(verification.verified, 2);
    assert!(verification.not_visible.is_empty());
    assert_eq!(
        started.elapsed(),
        3 * options.poll_interval,
        "three stale reads, one poll interval after each"
    );
}

/// A change that does not show within `verify_timeout` is reported as applied but not
/// visible, with what the tenant shows; the run still succeeds.
#[tokio::test(start_paused = true)]
async fn verification_gives_up_at_its_timeout_and_says_what_is_not_visible() {
    let fixture = Fixture::new("simulation:\n  visibilityLagReads: 1000\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nsentItems: {copyForSendAs: true}\n",
            )],
            false,
        )
        .await;
    let options = ApplyOptions {
        verify_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_secs(3),
        ..ApplyOptions::default()
    };
    let started = tokio::time::Instant::now();
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &options).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(log.outcome(), Some(RunOutcome::Succeeded));
    let verification = report.verification.unwrap();
    assert_eq!(verification.verified, 0);
    assert_eq!(verification.not_visible.len(), 1);
    let (field, _, seen) = &verification.not_visible[0];
    assert_eq!(field, "sentItems.copyForSendAs");
    assert_eq!(*seen, sharedbox_tenant::Observation::Switch(Some(false)));
    // Reads at 0, 3, 6, 9 and 12 s: the last one after the deadline.
    assert_eq!(started.elapsed(), Duration::from_secs(12));
    assert!(
        fixture.file().mailboxes[0].message_copy_for_sent_as_enabled,
        "the write itself happened"
    );
}

/// A new mailbox that is not readable yet is waited for on tokio's clock before the next
/// wave; verification then polls past the lag of the later writes.
#[tokio::test(start_paused = true)]
async fn new_mailboxes_are_waited_for_before_their_next_wave() {
    let fixture = Fixture::new("simulation:\n  visibilityLagReads: 2\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "neu.yaml",
                "mailbox: neu@fabrikam.com\nhiddenFromAddressLists: true\n",
            )],
            false,
        )
        .await;
    let options = ApplyOptions {
        poll_interval: Duration::from_secs(5),
        ..ApplyOptions::default()
    };
    let started = tokio::time::Instant::now();
    let (report, seen, _) = apply_recorded(&fixture, &plan, &snapshot, &options).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded, "{seen:#?}");
    assert_eq!(report.verification.unwrap().verified, 2);
    // Two stale reads while waiting for the mailbox, two while verifying.
    assert_eq!(started.elapsed(), 4 * options.poll_interval);
}

/// Many new mailboxes that never show fail the run with a message that names a few and
/// counts the rest: 5,000 addresses would make one line of 130 KB.
#[tokio::test(start_paused = true)]
async fn a_failed_wait_for_many_new_mailboxes_is_summarised() {
    let fixture = Fixture::new("simulation:\n  visibilityLagReads: 1000\n");
    let names: Vec<String> = (0..60).map(|i| format!("neu{i:02}.yaml")).collect();
    let texts: Vec<String> = (0..60)
        .map(|i| format!("mailbox: neu{i:02}@fabrikam.com\n"))
        .collect();
    let policies: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (plan, snapshot) = fixture.plan(&policies, false).await;
    let options = ApplyOptions {
        create_timeout: Duration::from_secs(10),
        poll_interval: Duration::from_secs(10),
        ..ApplyOptions::default()
    };
    let (report, _, _) = apply_recorded(&fixture, &plan, &snapshot, &options).await;
    let (_, _, _, error) = report.failed.unwrap();
    assert_eq!(
        error,
        "new mailbox(es) neu00@fabrikam.com, neu01@fabrikam.com, neu02@fabrikam.com, neu03@fabrikam.com, neu04@fabrikam.com and 55 more were not readable after 10s"
    );
}

/// A mailbox that never becomes readable fails the run at the create timeout, and the
/// create is undone.
#[tokio::test(start_paused = true)]
async fn a_new_mailbox_that_never_shows_fails_the_run_at_the_create_timeout() {
    let fixture = Fixture::new("simulation:\n  visibilityLagReads: 1000\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "neu.yaml",
                "mailbox: neu@fabrikam.com\nhiddenFromAddressLists: true\n",
            )],
            false,
        )
        .await;
    let options = ApplyOptions {
        create_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_secs(10),
        ..ApplyOptions::default()
    };
    let started = tokio::time::Instant::now();
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &options).await;
    assert_ne!(report.outcome, RunOutcome::Succeeded);
    let (_, _, _, error) = report.failed.unwrap();
    assert!(error.contains("were not readable after 60s"), "{error}");
    assert_eq!(report.not_run, 1, "the property step never ran");
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    assert!(log.outcome().is_some());
    // The create cannot be undone while the mailbox is not readable: the run does not claim
    // the tenant is as before (the mailbox would appear later), a human must look.
    assert_eq!(
        report.outcome,
        RunOutcome::RollbackIncomplete,
        "{:?}",
        report.undo
    );
    let create = report
        .undo
        .iter()
        .find(|i| matches!(i.operation, Operation::CreateMailbox { .. }))
        .unwrap();
    assert_eq!(create.status, UndoStatus::Failed);
    assert!(
        create
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("not readable")
    );
}

#[test]
fn max_removals_counts_what_the_summary_revokes_and_not_an_automapping_regrant() {
    // anna's FullAccess autoMapping is known (true) and changed: revoked and granted again.
    // The orphan's FullAccess and ben's Send As are revoked: 2, as in `2 to revoke`.
    let mut file = TenantFile::parse(TENANT, Path::new("tenant.yaml")).unwrap();
    file.mailboxes[0].mailbox_permissions[1].auto_mapping = Some(true);
    let policies = sharedbox_policy::load_sources(vec![sharedbox_policy::Source::new(
        "support.yaml",
        format!(
            "{HEADER}mailbox: support@fabrikam.com\nsendAs: [anna@fabrikam.com]\nfullAccess: [{{principal: anna@fabrikam.com, autoMapping: false}}]\n"
        ),
    )])
    .unwrap();
    let snapshot = file.snapshot(&ReadScope::of(vec!["support@fabrikam.com".into()]));
    let plan = sharedbox_planner::plan(&policies, &snapshot, &PlanOptions::default()).unwrap();
    assert_eq!(plan.summary().revoke, 2);
    assert_eq!(plan.summary().change, 2, "the re-grant is two changes");
    let limit = |max_removals| ApplyOptions {
        max_removals,
        ..ApplyOptions::default()
    };
    assert!(check_guards(&plan, &limit(2)).is_ok());
    assert!(matches!(
        check_guards(&plan, &limit(1)),
        Err(ApplyError::TooManyRemovals { count: 2, limit: 1 })
    ));
}

/// Rewrites the intent of the step on `field` in the journal of `run_id` with `edit`, as
/// someone with access to the state folder could.
fn tamper(state_dir: &Path, run_id: &str, field: &str, edit: impl Fn(&mut serde_json::Value)) {
    let path = crate::journal::run_path(state_dir, run_id);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            if record["type"] == "intent" && record["field"] == field {
                edit(&mut record);
                found = true;
            }
            record.to_string()
        })
        .collect();
    assert!(found, "no intent on {field}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// A journal is outside input. Rollback writes what the journaled before-image says, and a
/// journal whose `inverse` says otherwise (another value, no undo at all) or whose
/// before-image is not a value of what the step wrote gets a conflict for that step, not its
/// write. The `autoMapping` of a FullAccess re-grant, which no before-image holds, comes from
/// the journal's inverse.
#[tokio::test]
async fn a_journal_whose_inverse_was_tampered_with_is_not_used_to_write_something_else() {
    let fixture = Fixture::new("");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true, copyForSendOnBehalf: true}\nsendAs: [anna@fabrikam.com, ben@fabrikam.com, clara@fabrikam.com]\nfullAccess: []\n",
            )],
            false,
        )
        .await;
    let (report, _, _) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    let state = fixture.state_dir();
    let set = |property, value: bool| {
        serde_json::to_value(Operation::set("support@fabrikam.com", property, value)).unwrap()
    };
    // Another value: the inverse would keep the mailbox hidden.
    tamper(&state, "run-1", "hiddenFromAddressLists", |intent| {
        intent["inverse"] = set(Property::HiddenFromAddressLists, true);
    });
    // No undo at all, for a step that has one.
    tamper(&state, "run-1", "sendAs", |intent| {
        intent["inverse"] = serde_json::Value::Null;
    });
    // A before-image that is not a value of the setting.
    tamper(&state, "run-1", "sentItems.copyForSendAs", |intent| {
        intent["before"] = serde_json::json!({"kind": "member", "value": false});
    });
    // The autoMapping of the re-grant: the one thing the inverse supplies.
    let anna_id = snapshot
        .directory
        .resolve_policy("anna@fabrikam.com")
        .map(sharedbox_tenant::PrincipalId::of)
        .unwrap();
    tamper(&state, "run-1", "fullAccess", |intent| {
        if intent["operation"]["principal"]["kind"] == "recipient" {
            intent["inverse"]["auto_mapping"] = false.into();
        }
    });
    let log = RunLog::find(&state, "run-1").unwrap();
    assert!(log.problems.is_empty(), "{:?}", log.problems);

    let mut rollback = journal(&state, "run-2", RunKind::Rollback, log.steps().len());
    let report = rollback_run(&fixture.tenant, &log, &mut rollback, |_| {})
        .await
        .unwrap();
    assert_eq!(report.outcome, RunOutcome::RollbackIncomplete);
    let item = |field: &str| {
        report
            .items
            .iter()
            .find(|i| i.field == field)
            .unwrap_or_else(|| panic!("{field}: {:#?}", report.items))
    };
    let hidden = item("hiddenFromAddressLists");
    assert_eq!(hidden.status, UndoStatus::Conflict);
    assert_eq!(
        hidden.detail.as_deref().unwrap(),
        "the journal's `inverse` of this step (`Set-Mailbox -HiddenFromAddressListsEnabled true` on support@fabrikam.com) is not the write that puts back the value before it (`Set-Mailbox -HiddenFromAddressListsEnabled false` on support@fabrikam.com): nothing was written, the journal is not trusted for this step"
    );
    let send_as = item("sendAs");
    assert_eq!(send_as.status, UndoStatus::Conflict);
    assert!(
        send_as.detail.as_deref().unwrap().contains(
            "(none) is not the write that puts back the value before it (`Remove-RecipientPermission clara@fabrikam.com` on support@fabrikam.com)"
        ),
        "{send_as:?}"
    );
    let copy = item("sentItems.copyForSendAs");
    assert_eq!(copy.status, UndoStatus::Conflict);
    assert!(
        copy.detail.as_deref().unwrap().starts_with(
            "the value before the change (`not granted`) is not a value `Set-Mailbox` writes"
        ),
        "{copy:?}"
    );
    assert_eq!(
        item("sentItems.copyForSendOnBehalf").status,
        UndoStatus::Reverted,
        "an untouched step is undone"
    );

    // The tenant: the tampered steps are left as the run set them; the rest is put back.
    let support = fixture
        .file()
        .mailboxes
        .into_iter()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    assert!(support.hidden_from_address_lists_enabled);
    assert!(support.message_copy_for_sent_as_enabled);
    assert!(!support.message_copy_for_send_on_behalf_enabled);
    assert!(
        support
            .recipient_permissions
            .iter()
            .any(|p| p.trustee.contains("clara"))
    );
    let anna = fixture.file().directory();
    let regranted: Vec<_> = fixture
        .tenant
        .read(&ReadScope::of(vec!["support@fabrikam.com".into()]))
        .await
        .unwrap()
        .mailbox("support@fabrikam.com")
        .unwrap()
        .mailbox_permissions
        .iter()
        .filter(|row| {
            row.is_full_access_grant()
                && matches!(
                    anna.resolve_live(&row.user),
                    sharedbox_tenant::LivePrincipal::Recipient(r)
                        if sharedbox_tenant::PrincipalId::of(r) == anna_id
                )
        })
        .map(|row| row.auto_mapping)
        .collect();
    assert_eq!(
        regranted,
        [Some(false)],
        "anna has full access again, with the journal's autoMapping"
    );

    // The rollback's journal: no write for a conflict.
    let journaled = RunLog::find(&state, "run-2").unwrap();
    let conflicts_written = journaled
        .records
        .iter()
        .filter(|r| {
            matches!(
                r,
                Record::Undo {
                    status: UndoStatus::Conflict,
                    operation: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(conflicts_written, 0);
}

/// The automatic rollback of a failed apply also derives its writes from the before-images:
/// a plan whose inverse is wrong (a saved plan is outside input as well) is not followed.
#[tokio::test]
async fn the_automatic_rollback_does_not_follow_a_wrong_inverse_of_the_plan() {
    // Write 1 hides the mailbox, write 2 (the copy for Send As) fails.
    let fixture = Fixture::new("simulation:\n  failOnWrite: 2\n");
    let before = fixture.file();
    let (mut plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true}\n",
            )],
            false,
        )
        .await;
    for change in plan.mailboxes.iter_mut().flat_map(|m| m.changes.iter_mut()) {
        if change.field == "hiddenFromAddressLists" {
            change.inverse = Some(Operation::set(
                "support@fabrikam.com",
                Property::HiddenFromAddressLists,
                true,
            ));
        }
    }
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::RollbackIncomplete);
    assert_eq!(
        status_of_in(&report.undo, "hiddenFromAddressLists"),
        UndoStatus::Conflict
    );
    assert_eq!(log.outcome(), Some(RunOutcome::RollbackIncomplete));
    let mut after = fixture.file();
    let support = after
        .mailboxes
        .iter_mut()
        .find(|m| m.primary_smtp_address == "support@fabrikam.com")
        .unwrap();
    assert!(
        support.hidden_from_address_lists_enabled,
        "left as the run set it"
    );
    support.hidden_from_address_lists_enabled = false;
    assert_eq!(after, before, "nothing else was written");

    // With the plan's own inverse, the same failure is rolled back completely.
    let fixture = Fixture::new("simulation:\n  failOnWrite: 2\n");
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\nhiddenFromAddressLists: true\nsentItems: {copyForSendAs: true}\n",
            )],
            false,
        )
        .await;
    let (report, _, _) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::RolledBack);
    assert_eq!(fixture.file(), before);
}

/// A display name is free text: a change of its case only is a change, undone like any other
/// (choices, like `moderation.notifications`, compare without case).
#[tokio::test]
async fn a_change_of_case_only_in_a_display_name_is_rolled_back() {
    let fixture = Fixture::new("");
    let before = fixture.file();
    let (plan, snapshot) = fixture
        .plan(
            &[(
                "support.yaml",
                "mailbox: support@fabrikam.com\ndisplayName: SUPPORT\n",
            )],
            false,
        )
        .await;
    assert_eq!(plan.ordered_changes().len(), 1);
    let (report, _, log) = apply_recorded(&fixture, &plan, &snapshot, &quick()).await;
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_ne!(fixture.file(), before);
    let mut rollback = journal(&fixture.state_dir(), "run-2", RunKind::Rollback, 1);
    let report = rollback_run(&fixture.tenant, &log, &mut rollback, |_| {})
        .await
        .unwrap();
    assert_eq!(
        status_of_in(&report.items, "displayName"),
        UndoStatus::Reverted
    );
    assert_eq!(fixture.file(), before);
}

#[test]
fn a_root_visibility_write_is_named_as_one_in_conflict_messages() {
    let principal = sharedbox_tenant::Principal::Recipient {
        id: sharedbox_tenant::PrincipalId("1".into()),
        address: "ben@fabrikam.com".into(),
        app_id: None,
    };
    let grant = Operation::GrantRootVisibility {
        mailbox: "support@fabrikam.com".into(),
        principal: principal.clone(),
    };
    assert_eq!(
        super::shown(&grant),
        "`Add-MailboxFolderPermission ben@fabrikam.com FolderVisible on the mailbox root` on support@fabrikam.com"
    );
    let revoke = Operation::RevokeRootVisibility {
        mailbox: "support@fabrikam.com".into(),
        principal,
    };
    assert_eq!(
        super::shown(&revoke),
        "`Remove-MailboxFolderPermission ben@fabrikam.com on the mailbox root` on support@fabrikam.com"
    );
}
