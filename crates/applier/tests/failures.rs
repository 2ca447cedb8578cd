//! How the applier treats a failed write, by its kind: a throttled or transient failure is
//! sent again, a permanent one is reported at once and never repeated, and `New-Mailbox` is
//! never sent twice. Writes are counted by the file backend (`simulation.writes`).

use std::path::Path;
use std::time::Duration;

use sharedbox_applier::{ApplyOptions, ApplyReport, Journal, Retry, RunOutcome, apply};
use sharedbox_file::{FailKind, FileTenant, Simulation, TenantFile};
use sharedbox_planner::{Action, Change, Plan, Wave};
use sharedbox_tenant::{Operation, OrganizationProperty, ReadScope, Tenant};

const FIXTURE: &str = include_str!("../../cli/tests/fixtures/tenant.yaml");

/// A tenant file whose first write fails with `kind`.
fn tenant(dir: &Path, kind: FailKind) -> FileTenant {
    let mut file = TenantFile::parse(FIXTURE, Path::new("fixture.yaml")).unwrap();
    file.simulation = Some(Simulation {
        fail_on_write: Some(1),
        fail_kind: Some(kind),
        ..Simulation::default()
    });
    let path = dir.join("tenant.yaml");
    std::fs::write(&path, FIXTURE).unwrap();
    let tenant = FileTenant::open(&path).unwrap();
    tenant.save(&file).unwrap();
    tenant
}

fn plan_of(operation: Operation, inverse: Option<Operation>, wave: Wave) -> Plan {
    Plan {
        tenant: "fabrikam.onmicrosoft.com".into(),
        mailboxes: Vec::new(),
        organization: vec![Change {
            field: "test".into(),
            action: Action::Update,
            wave,
            operation,
            before: None,
            after: None,
            inverse,
            note: None,
            cause: None,
        }],
        warnings: Vec::new(),
        unchanged: Vec::new(),
        baseline: Default::default(),
    }
}

fn send_from_alias(on: bool) -> Operation {
    Operation::set_organization(OrganizationProperty::SendFromAliasEnabled, on)
}

fn options() -> ApplyOptions {
    ApplyOptions {
        retry: Retry {
            retries: 3,
            delay: Duration::from_millis(1),
        },
        verify_timeout: Duration::ZERO,
        create_timeout: Duration::ZERO,
        poll_interval: Duration::from_millis(1),
        ..ApplyOptions::default()
    }
}

async fn run(tenant: &FileTenant, plan: &Plan, state: &Path) -> ApplyReport {
    let snapshot = tenant.read(&ReadScope::default()).await.unwrap();
    let mut journal = Journal::create(state, "run-1").unwrap();
    apply(tenant, plan, snapshot, &mut journal, &options(), |_| {})
        .await
        .unwrap()
}

fn writes(tenant: &FileTenant) -> u32 {
    tenant.load().unwrap().simulation.unwrap().writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_is_reported_at_once_and_never_sent_again() {
    for kind in [FailKind::Forbidden, FailKind::Invalid] {
        let dir = tempfile::tempdir().unwrap();
        let tenant = tenant(dir.path(), kind);
        let plan = plan_of(
            send_from_alias(true),
            Some(send_from_alias(false)),
            Wave::Properties,
        );
        let report = run(&tenant, &plan, dir.path()).await;
        let (_, _, _, error) = report.failed.expect("the step fails");
        assert!(error.contains("simulated failure of write 1"), "{error}");
        assert_eq!(writes(&tenant), 1, "{kind:?}: one attempt, no retry");
        assert!(!tenant.load().unwrap().organization.send_from_alias_enabled);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_or_transient_failure_is_sent_again() {
    for kind in [FailKind::Throttled, FailKind::Transient] {
        let dir = tempfile::tempdir().unwrap();
        let tenant = tenant(dir.path(), kind);
        let plan = plan_of(
            send_from_alias(true),
            Some(send_from_alias(false)),
            Wave::Properties,
        );
        let report = run(&tenant, &plan, dir.path()).await;
        assert!(report.failed.is_none(), "{kind:?}: {:?}", report.failed);
        assert_eq!(report.outcome, RunOutcome::Succeeded);
        assert_eq!(
            writes(&tenant),
            2,
            "{kind:?}: the failed write and its retry"
        );
        assert!(tenant.load().unwrap().organization.send_from_alias_enabled);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_mailbox_is_never_sent_again_even_when_the_failure_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant(dir.path(), FailKind::Transient);
    let plan = plan_of(
        Operation::CreateMailbox {
            mailbox: "neu@fabrikam.com".into(),
            display_name: "Neu".into(),
        },
        Some(Operation::RemoveMailbox {
            mailbox: "neu@fabrikam.com".into(),
        }),
        Wave::Create,
    );
    let report = run(&tenant, &plan, dir.path()).await;
    assert!(report.failed.is_some());
    assert_eq!(writes(&tenant), 1, "`New-Mailbox` is not repeated blindly");
}

/// The file backend with reads that are refused (a token without read rights), counted.
struct ForbiddenReads {
    inner: FileTenant,
    reads: std::sync::atomic::AtomicU32,
}

#[derive(Debug, thiserror::Error)]
#[error("reads are forbidden")]
struct NoReads;

impl miette::Diagnostic for NoReads {}

#[async_trait::async_trait]
impl Tenant for ForbiddenReads {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn read(
        &self,
        _: &ReadScope,
    ) -> Result<sharedbox_tenant::Snapshot, sharedbox_tenant::TenantError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(sharedbox_tenant::TenantError::backend(
            sharedbox_tenant::TenantErrorKind::Forbidden,
            NoReads,
        ))
    }

    async fn execute(&self, operation: &Operation) -> Result<(), sharedbox_tenant::TenantError> {
        self.inner.execute(operation).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_read_failure_ends_the_wait_for_new_mailboxes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.yaml");
    std::fs::write(&path, FIXTURE).unwrap();
    let file = FileTenant::open(&path).unwrap();
    let snapshot = file.read(&ReadScope::default()).await.unwrap();
    let tenant = ForbiddenReads {
        inner: file,
        reads: Default::default(),
    };
    let plan = plan_of(
        Operation::CreateMailbox {
            mailbox: "neu@fabrikam.com".into(),
            display_name: "Neu".into(),
        },
        Some(Operation::RemoveMailbox {
            mailbox: "neu@fabrikam.com".into(),
        }),
        Wave::Create,
    );
    let options = ApplyOptions {
        create_timeout: Duration::from_secs(600),
        poll_interval: Duration::from_millis(50),
        ..options()
    };
    let mut journal = Journal::create(dir.path(), "run-1").unwrap();
    let started = std::time::Instant::now();
    let report = apply(&tenant, &plan, snapshot, &mut journal, &options, |_| {})
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "no polling");
    let (_, _, _, error) = report.failed.expect("the wait fails");
    assert!(
        error.contains("could not be read: reads are forbidden"),
        "{error}"
    );
    assert_eq!(
        tenant.reads.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one read for the wait, one for the rollback, none repeated"
    );
}
