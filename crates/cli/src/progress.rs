//! Counts and an ETA for long work: tenant reads, applies, verifications, rollbacks.
//!
//! The library crates report through [`sharedbox_tenant::Progress`]; this module is its one
//! implementation, [`Reporter`], and shows it one of three ways, chosen once per process:
//! - stderr is a terminal (and `--json-lines` is off): an `indicatif` bar with the phase,
//!   counts and an ETA, cleared when the phase ends; lines written meanwhile go above it
//!   ([`suspend`]);
//! - `--json-lines`: `progress` events with `phase`, `done`, `total` and `elapsed`, at most
//!   one per second per phase besides the first (`done` 0) and the last;
//! - otherwise nothing: a pipeline's stderr stays what it was.
//!
//! One phase is shown at a time: work that starts while another phase runs (a read made
//! while a rollback decides) is counted in the outer phase only.

use std::io::IsTerminal as _;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sharedbox_tenant::{Phase, Progress, ReadScope, Snapshot, Tenant, TenantError};

use crate::output;

/// The shortest time between two `progress` events of one phase (the first and the last
/// are always written).
const EVENT_INTERVAL: Duration = Duration::from_secs(1);

/// How often a bar is redrawn when nothing is counted.
const TICK: Duration = Duration::from_millis(500);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A bar on the terminal.
    Bar,
    /// `progress` events (`--json-lines`).
    Events,
    /// Nothing.
    Off,
}

impl Mode {
    /// The mode of this process: events with `--json-lines`, a bar when stderr is a
    /// terminal, nothing otherwise.
    fn detect() -> Mode {
        if output::json_lines() {
            Mode::Events
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Off
        }
    }
}

/// The phase being shown.
struct Running {
    /// What it is shown as.
    phase: Phase,
    total: u64,
    done: u64,
    started: Instant,
    /// When the last event was written, and with which `done`.
    last_event: Option<(Instant, u64)>,
    /// Phases started inside this one, not shown.
    nested: usize,
}

/// Shows the progress of one phase at a time (see the module documentation).
pub struct Reporter {
    mode: Mode,
    /// How reads are shown: [`Phase::Read`] unless the caller knows why it reads.
    reads_as: Mutex<Phase>,
    running: Mutex<Option<Running>>,
    /// The bar of [`Mode::Bar`], drawn to `target` when a phase starts.
    bar: Mutex<Option<ProgressBar>>,
    target: fn() -> ProgressDrawTarget,
}

impl Reporter {
    /// A reporter of `mode`; bars are drawn to `target`.
    pub fn new(mode: Mode, target: fn() -> ProgressDrawTarget) -> Reporter {
        Reporter {
            mode,
            reads_as: Mutex::new(Phase::Read),
            running: Mutex::new(None),
            bar: Mutex::new(None),
            target,
        }
    }

    /// How this reporter shows progress.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Shows the tenant reads from now on as `phase` (the reads of a verification as
    /// [`Phase::Verify`]).
    pub fn reads_as(&self, phase: Phase) {
        *lock(&self.reads_as) = phase;
    }

    /// The bar being drawn, if any (for tests).
    #[cfg(test)]
    fn bar(&self) -> Option<ProgressBar> {
        lock(&self.bar).clone()
    }

    fn event(&self, running: &mut Running, now: Instant) {
        running.last_event = Some((now, running.done));
        let phase = running.phase.as_str();
        output::emit(
            "progress",
            "info",
            &format!("{phase}: {} of {}", running.done, running.total),
            serde_json::json!({
                "phase": phase,
                "done": running.done,
                "total": running.total,
                "elapsed": (now - running.started).as_secs_f64(),
            }),
        );
    }
}

impl Progress for Reporter {
    fn start(&self, phase: Phase, total: u64) {
        if self.mode == Mode::Off {
            return;
        }
        let mut running = lock(&self.running);
        if let Some(outer) = running.as_mut() {
            outer.nested += 1;
            return;
        }
        let phase = if phase == Phase::Read {
            *lock(&self.reads_as)
        } else {
            phase
        };
        let now = Instant::now();
        let state = running.insert(Running {
            phase,
            total,
            done: 0,
            started: now,
            last_event: None,
            nested: 0,
        });
        match self.mode {
            Mode::Events => self.event(state, now),
            Mode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(total), (self.target)())
                    .with_style(style())
                    .with_prefix(label(phase));
                // Redrawn while nothing is counted too (round 1 of a read, a slow round of
                // writes), so that the time left keeps moving.
                bar.enable_steady_tick(TICK);
                *lock(&self.bar) = Some(bar);
            }
            Mode::Off => {}
        }
    }

    fn advance(&self, n: u64) {
        if self.mode == Mode::Off || n == 0 {
            return;
        }
        let mut running = lock(&self.running);
        let Some(state) = running.as_mut().filter(|r| r.nested == 0) else {
            return;
        };
        state.done = (state.done + n).min(state.total.max(state.done));
        match self.mode {
            Mode::Events => {
                let now = Instant::now();
                let due = state
                    .last_event
                    .is_none_or(|(at, _)| now - at >= EVENT_INTERVAL);
                if due || state.done >= state.total {
                    self.event(state, now);
                }
            }
            Mode::Bar => {
                if let Some(bar) = lock(&self.bar).as_ref() {
                    bar.set_position(state.done);
                }
            }
            Mode::Off => {}
        }
    }

    fn finish(&self) {
        if self.mode == Mode::Off {
            return;
        }
        let mut running = lock(&self.running);
        let Some(state) = running.as_mut() else {
            return;
        };
        if state.nested > 0 {
            state.nested -= 1;
            return;
        }
        if self.mode == Mode::Events && state.last_event.is_none_or(|(_, done)| done != state.done)
        {
            self.event(state, Instant::now());
        }
        if let Some(bar) = lock(&self.bar).take() {
            bar.finish_and_clear();
        }
        *running = None;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The bar: `  applying [=====>    ] 1200/5000 (eta 40s)`.
fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} ({eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// What a phase is called on the bar.
fn label(phase: Phase) -> &'static str {
    match phase {
        Phase::Read => "reading",
        Phase::Apply => "applying",
        Phase::Verify => "verifying",
        Phase::Rollback => "rolling back",
    }
}

static REPORTER: OnceLock<Reporter> = OnceLock::new();

/// The reporter of this process ([`Mode::detect`], once `--json-lines` is known; stderr for
/// bars).
pub fn reporter() -> &'static Reporter {
    REPORTER.get_or_init(|| Reporter::new(Mode::detect(), ProgressDrawTarget::stderr))
}

/// Runs `write` (a write to stderr) with the bar, if one is drawn, taken off the screen
/// meanwhile, so that the line appears above the bar.
pub fn suspend(write: impl FnOnce()) {
    // Writes before any progress (a usage error) do not choose the mode. The bar's lock is
    // never held while the reporter writes (its events are written in `Mode::Events`, which
    // has no bar), so waiting for it cannot deadlock.
    let bar = REPORTER
        .get()
        .and_then(|reporter| lock(&reporter.bar).as_ref().cloned());
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// A tenant whose reads report to the process's [`reporter`]: every read of a command
/// (the plan's, and the applier's waits, verifications and rollback reads) shows progress.
pub struct Reporting {
    inner: Box<dyn Tenant>,
}

impl Reporting {
    /// `inner` with progress, where this process shows any.
    pub fn wrap(inner: Box<dyn Tenant>) -> Box<dyn Tenant> {
        if reporter().mode() == Mode::Off {
            inner
        } else {
            Box::new(Reporting { inner })
        }
    }
}

#[async_trait::async_trait]
impl Tenant for Reporting {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn read(&self, scope: &ReadScope) -> Result<Snapshot, TenantError> {
        self.inner.read_with_progress(scope, reporter()).await
    }

    async fn read_with_progress(
        &self,
        scope: &ReadScope,
        progress: &dyn Progress,
    ) -> Result<Snapshot, TenantError> {
        self.inner.read_with_progress(scope, progress).await
    }

    async fn execute(&self, operation: &sharedbox_tenant::Operation) -> Result<(), TenantError> {
        self.inner.execute(operation).await
    }

    async fn execute_all(
        &self,
        operations: &[sharedbox_tenant::Operation],
    ) -> Vec<Result<(), TenantError>> {
        self.inner.execute_all(operations).await
    }
}

/// What an apply event completes.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// A step of `total` has its outcome.
    Step {
        /// The run's number of steps.
        total: usize,
    },
    /// An undo was decided.
    Undo,
}

/// Counts an apply's steps (and an automatic rollback's decisions) from its events, or a
/// rollback's decisions, for the [`reporter`].
#[derive(Debug, Default)]
pub struct RunCounter {
    /// The apply phase has started.
    started: bool,
    /// Steps with an outcome.
    ended: u64,
    /// The steps a rollback decides on.
    to_undo: Option<u64>,
    /// The rollback phase has started.
    undoing: bool,
}

impl RunCounter {
    /// A counter for `sharedbox rollback` of `steps` steps.
    pub fn rollback(steps: usize) -> RunCounter {
        RunCounter {
            to_undo: Some(steps as u64),
            ..RunCounter::default()
        }
    }

    /// Updates the [`reporter`] for `event`: phases start and end here; what `event`
    /// completes is returned, to be [`RunCounter::count`]ed once the event is shown. The
    /// reads made while the apply phase runs (the wait for new mailboxes) are counted in it;
    /// those after it (verification, the rollback's read) are shown on their own.
    pub fn on(&mut self, event: &sharedbox_applier::Event<'_>) -> Option<Count> {
        use sharedbox_applier::Event;
        let reporter = reporter();
        match event {
            Event::Started { total, .. } => {
                if !self.started {
                    self.started = true;
                    reporter.start(Phase::Apply, *total as u64);
                }
                None
            }
            Event::Succeeded { total, .. } | Event::Failed { total, .. } => {
                Some(Count::Step { total: *total })
            }
            Event::WaitingForMailboxes { .. } => None,
            Event::Verifying => {
                reporter.reads_as(Phase::Verify);
                None
            }
            Event::RollingBack => {
                // A failed step ends the apply phase before its last step.
                if self.ended > 0 {
                    reporter.finish();
                }
                self.to_undo = Some(self.ended);
                None
            }
            Event::Undone(_) => {
                self.undoing();
                Some(Count::Undo)
            }
        }
    }

    /// Counts what [`RunCounter::on`] returned.
    pub fn count(&mut self, count: Option<Count>) {
        match count {
            Some(Count::Step { total }) => {
                self.ended += 1;
                let reporter = reporter();
                reporter.advance(1);
                if self.ended == total as u64 {
                    reporter.finish();
                }
            }
            Some(Count::Undo) => self.undone(),
            None => {}
        }
    }

    /// An undo decision is about to be shown: starts the rollback phase at the first.
    pub fn undoing(&mut self) {
        if !self.undoing {
            self.undoing = true;
            reporter().start(Phase::Rollback, self.to_undo.unwrap_or(self.ended));
        }
    }

    /// Counts one undo decision (after [`RunCounter::undoing`]).
    pub fn undone(&mut self) {
        reporter().advance(1);
    }

    /// The run is over: ends what is still shown.
    pub fn end(&mut self) {
        let reporter = reporter();
        reporter.finish();
        reporter.reads_as(Phase::Read);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar_reporter() -> Reporter {
        Reporter::new(Mode::Bar, ProgressDrawTarget::hidden)
    }

    #[test]
    fn a_bar_counts_one_phase_and_is_gone_when_it_ends() {
        let reporter = bar_reporter();
        reporter.start(Phase::Apply, 5000);
        let bar = reporter.bar().expect("a bar while the phase runs");
        assert_eq!(bar.length(), Some(5000));
        assert_eq!(bar.prefix(), "applying");
        reporter.advance(1200);
        reporter.advance(300);
        assert_eq!(bar.position(), 1500);
        reporter.finish();
        assert!(bar.is_finished());
        assert!(reporter.bar().is_none());
    }

    #[test]
    fn work_started_inside_a_phase_is_counted_in_that_phase_only() {
        let reporter = bar_reporter();
        reporter.start(Phase::Rollback, 3);
        reporter.advance(1);
        // A read made while the rollback decides: its counts are not the rollback's.
        reporter.start(Phase::Read, 40);
        reporter.advance(40);
        reporter.finish();
        let bar = reporter.bar().expect("the rollback's bar stays");
        assert_eq!((bar.position(), bar.length()), (1, Some(3)));
        assert_eq!(bar.prefix(), "rolling back");
        reporter.advance(2);
        assert_eq!(bar.position(), 3);
        reporter.finish();
        assert!(reporter.bar().is_none());
    }

    #[test]
    fn reads_show_as_what_the_caller_reads_for() {
        let reporter = bar_reporter();
        reporter.reads_as(Phase::Verify);
        reporter.start(Phase::Read, 10);
        assert_eq!(reporter.bar().unwrap().prefix(), "verifying");
        reporter.finish();
        // Other phases keep their own name.
        reporter.start(Phase::Apply, 2);
        assert_eq!(reporter.bar().unwrap().prefix(), "applying");
        reporter.finish();
    }

    #[test]
    fn counts_never_pass_the_total() {
        let reporter = bar_reporter();
        reporter.start(Phase::Read, 10);
        reporter.advance(8);
        reporter.advance(8);
        assert_eq!(reporter.bar().unwrap().position(), 10);
        reporter.finish();
    }

    #[test]
    fn without_a_terminal_nothing_is_drawn() {
        let reporter = Reporter::new(Mode::Off, ProgressDrawTarget::hidden);
        reporter.start(Phase::Apply, 5);
        reporter.advance(1);
        assert!(reporter.bar().is_none());
        reporter.finish();
    }
}
