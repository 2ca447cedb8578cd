//! `sharedbox drift`.

use sharedbox_planner::drift_report;

use super::{load_policies, make_plan, open_tenant, policy_scope, read};
use crate::args::{DriftArgs, Format};
use crate::config::RunConfig;
use crate::output::ExitStatus;

/// `sharedbox drift`.
pub async fn drift(config: &RunConfig, args: &DriftArgs) -> anyhow::Result<ExitStatus> {
    let policies = load_policies(config)?;
    let tenant = open_tenant(config)?;
    let snapshot = read(tenant.as_ref(), &policy_scope(&policies)).await?;
    let plan = make_plan(&policies, &snapshot, &[], None, None)?;
    let report = drift_report(&plan, &policies, &snapshot);
    let markdown = report.to_markdown();
    crate::output::step_summary(&markdown);
    match args.format {
        Format::Text => out!("{}", report.to_text()),
        Format::Markdown => out!("{markdown}"),
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if args.detailed_exitcode && !report.in_desired_state {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
