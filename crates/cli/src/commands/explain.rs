//! `explain` and `profiles`: the lint catalog and the built-in profiles, for people.

use sharedbox_policy::lint::{LINTS, Lint, find};
use sharedbox_policy::load::BUILTIN_PROFILES;

use crate::output::{ExitStatus, Failure};

/// `sharedbox explain [CODE]`.
pub fn explain(code: Option<&str>) -> anyhow::Result<ExitStatus> {
    let Some(code) = code else {
        outln!("{:<7} {:<9} {:<33} summary", "code", "default", "name");
        for lint in LINTS {
            outln!(
                "{:<7} {:<9} {:<33} {}{}",
                lint.code,
                level(lint),
                lint.name,
                lint.summary,
                if lint.tenant_aware {
                    " (plan only)"
                } else {
                    ""
                }
            );
        }
        outln!(
            "\n`sharedbox explain CODE` shows one; levels are set under `lints:` in `sharedbox.yaml` or a policy document."
        );
        return Ok(ExitStatus::Success);
    };
    let Some(lint) = find(code) else {
        return Err(Failure::new(format!("there is no lint `{code}`"))
            .hint("`sharedbox explain` lists every lint code and name")
            .into());
    };
    outln!("{} {}: {}", lint.code, lint.name, lint.summary);
    outln!(
        "default level: {}; runs in: {}\n",
        level(lint),
        if lint.tenant_aware {
            "`plan` and `apply` (needs the tenant)"
        } else {
            "`validate`, `plan` and `apply`"
        }
    );
    outln!("{}", lint.explanation);
    outln!(
        "\nChange the level for the project in `sharedbox.yaml`, or for one mailbox (or a profile,\nor the defaults) in its policy document:\n\n    lints:\n      {}: info   # error | warning | info | off",
        lint.code
    );
    Ok(ExitStatus::Success)
}

fn level(lint: &Lint) -> &'static str {
    lint.default_severity.as_str()
}

/// `sharedbox profiles [NAME]`.
pub fn profiles(name: Option<&str>) -> anyhow::Result<ExitStatus> {
    let Some(name) = name else {
        for (name, text) in BUILTIN_PROFILES {
            outln!("{name}\n    {}\n", description(text));
        }
        outln!(
            "Take one with `profile: NAME` in a `SharedMailbox`; the mailbox's own values win over the\nprofile's, which win over `Defaults`. `sharedbox profiles NAME` prints one as YAML."
        );
        return Ok(ExitStatus::Success);
    };
    let Some((_, text)) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == name) else {
        return Err(
            Failure::new(format!("there is no built-in profile `{name}`"))
                .hint(format!(
                    "the built-in profiles are {}",
                    BUILTIN_PROFILES
                        .iter()
                        .map(|(n, _)| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into(),
        );
    };
    out!("{text}");
    Ok(ExitStatus::Success)
}

/// The folded `description:` of a built-in profile, on one line.
fn description(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("description:"));
    lines.next();
    lines
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}
