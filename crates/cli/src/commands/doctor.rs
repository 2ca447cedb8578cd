//! `sharedbox doctor`: the connection to Exchange Online, the token's identity and roles,
//! and whether it can plan (read) and apply (write). Reads only; report on stdout.

use std::fmt::Write as _;

use sharedbox_exo::auth::claims;
use sharedbox_exo::doctor::{Report, diagnose, role_hint};

use super::open_exo;
use crate::config::{RunConfig, TenantSpec};
use crate::output::{ExitStatus, Failure, hint_of};

/// Runs the checks; exit 0 when the identity can at least read, 1 otherwise.
pub async fn doctor(config: &RunConfig) -> anyhow::Result<ExitStatus> {
    let spec = match config.tenant()? {
        TenantSpec::Exo(spec) => spec,
        TenantSpec::File(path) => {
            outln!(
                "tenant: file backend `{}` (no credentials needed, nothing to check)",
                path.display()
            );
            return Ok(ExitStatus::Success);
        }
    };
    let tenant = open_exo(spec)?;
    let client = tenant.client();
    let mut out = String::new();
    let _ = writeln!(out, "tenant:    {}", spec.tenant);
    let _ = writeln!(out, "cloud:     {}", spec.cloud);
    let _ = writeln!(out, "endpoint:  {}", client.base());
    let _ = writeln!(out, "auth:      {}", client.tokens().method());
    let token = client.tokens().token().await.map_err(|e| {
        Failure::new(format!("cannot get an access token: {}", e.message)).maybe_hint(hint_of(&e))
    })?;
    match claims(&token) {
        Some(c) => {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            let _ = writeln!(
                out,
                "token:     audience {}, tenant {}",
                show(&c.aud),
                show(&c.tid)
            );
            let identity = c
                .upn
                .clone()
                .or_else(|| c.appid.clone().map(|a| format!("app {a}")));
            let _ = writeln!(out, "identity:  {}", show(&identity));
            let _ = writeln!(out, "roles:     {}", list(&c.roles));
            let _ = writeln!(out, "scopes:    {}", list(&c.scp));
            if !c.roles.iter().any(|r| r == "Exchange.ManageAsApp")
                && !c
                    .scp
                    .iter()
                    .any(|s| s == "Exchange.Manage" || s == "AdminApi.AccessAsUser.All")
            {
                let _ = writeln!(
                    out,
                    "warning:   the token holds neither `Exchange.ManageAsApp` (app) nor `Exchange.Manage` (delegated); the admin API will refuse it"
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "token:     not a JWT (a static or opaque token); claims not shown"
            );
        }
    }
    drop(token);
    let report = diagnose(&tenant).await;
    render(&mut out, &report);
    out!("{out}");
    if report.can_read() {
        Ok(ExitStatus::Success)
    } else {
        Err(Failure::new("this identity cannot read the tenant")
            .hint("grant the missing roles above (docs/exchange-online.md), then run `sharedbox doctor` again")
            .into())
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

fn render(out: &mut String, report: &Report) {
    match &report.exported {
        Ok(cmdlets) => {
            let _ = writeln!(
                out,
                "cmdlets:   {} allowed for this identity",
                cmdlets.len()
            );
        }
        Err(e) => {
            let _ = writeln!(out, "cmdlets:   cannot list them: {e}");
        }
    }
    let _ = writeln!(out, "reads:");
    for probe in &report.probes {
        match &probe.result {
            Ok(n) => {
                let _ = writeln!(
                    out,
                    "  ok     {} ({n} object{})",
                    probe.cmdlet,
                    if *n == 1 { "" } else { "s" }
                );
            }
            Err(e) => {
                let _ = writeln!(out, "  FAILED {}: {e}", probe.cmdlet);
                if let Some(hint) = &probe.hint {
                    let _ = writeln!(out, "         hint: {hint}");
                }
            }
        }
    }
    for (title, missing) in [
        ("reader", &report.missing_reader),
        ("writer", &report.missing_writer),
    ] {
        if !missing.is_empty() && report.exported.is_ok() {
            let _ = writeln!(out, "missing for the {title} role:");
            for cmdlet in missing.iter() {
                let _ = writeln!(out, "  {cmdlet} (role: {})", role_hint(cmdlet));
            }
        }
    }
    if !report.missing_directory.is_empty() && report.exported.is_ok() {
        let _ = writeln!(
            out,
            "optional:  {} not allowed: plans still work, but a SID nothing resolves is shown as not looked up rather than orphaned, and `app:` principals cannot be resolved",
            report
                .missing_directory
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let verdict = match (report.can_read(), report.can_write()) {
        (true, true) => {
            "this identity can plan, drift and export (reader) and apply and roll back (writer)"
        }
        (true, false) => "this identity can plan, drift and export (reader), but not apply",
        _ => "this identity cannot read what sharedbox needs",
    };
    let _ = writeln!(out, "verdict:   {verdict}");
}
