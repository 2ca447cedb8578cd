//! Whether a saved plan may be applied: everything `apply PLANFILE` checks of the file itself
//! before it reads the tenant (format, digest, tool version, creation and expiry time,
//! tenant). The re-derivation from the policies is [`PlanDocument::check_against`]; whether a
//! plan was applied before is in the journals (the applier's).
//!
//! The fuzz target `plan_document` runs exactly these checks on arbitrary bytes.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::document::{FORMAT_VERSION, PlanDocument};

/// How long a saved plan lives after it was made (`plan --out`).
pub const PLAN_LIFETIME: time::Duration = time::Duration::hours(24);

/// How far ahead of this clock a plan's creation time may be.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// Why a saved plan is refused. Messages name the plan (its short id) but not the file; the
/// caller says which file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not JSON.
    #[error("is not a sharedbox plan file: {0}")]
    NotAPlan(String),
    /// Another format version, or none.
    #[error("has plan format {}, this sharedbox reads format {FORMAT_VERSION}", .found.map_or("(none)".to_owned(), |f| f.to_string()))]
    Format {
        /// The version found.
        found: Option<u64>,
    },
    /// JSON of the right version, but not a plan document.
    #[error("is not a valid plan file: {0}")]
    Invalid(String),
    /// The content does not match its digest.
    #[error("was modified after it was saved (its content does not match plan id {0})")]
    Modified(String),
    /// Made by another sharedbox version.
    #[error("plan {id} was made by sharedbox {made_by}, this is {this}")]
    Version {
        /// The plan's short id.
        id: String,
        /// The version that made it.
        made_by: String,
        /// This version.
        this: String,
    },
    /// A time that does not parse.
    #[error("plan {id} has an invalid {what} `{value}`")]
    InvalidTime {
        /// The plan's short id.
        id: String,
        /// `creation time` or `expiry`.
        what: &'static str,
        /// The text.
        value: String,
    },
    /// Made in the future.
    #[error("plan {id} claims to be made at {created_at}, in the future")]
    Future {
        /// The plan's short id.
        id: String,
        /// As written.
        created_at: String,
    },
    /// Expired.
    #[error("plan {id} expired at {expired}{why}")]
    Expired {
        /// The plan's short id.
        id: String,
        /// When (RFC 3339).
        expired: String,
        /// Why earlier than its file says, when it is.
        why: String,
    },
    /// Made for another tenant.
    #[error("plan {id} is for tenant `{plan}`, but the configured tenant is `{configured}`")]
    Tenant {
        /// The plan's short id.
        id: String,
        /// The plan's tenant.
        plan: String,
        /// The configured one.
        configured: String,
    },
}

impl Refusal {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        let new_plan = "make a new plan with `sharedbox plan --out FILE`";
        match self {
            Refusal::NotAPlan(_)
            | Refusal::Format { .. }
            | Refusal::Invalid(_)
            | Refusal::Modified(_) => "make a new one with `sharedbox plan --out FILE`".to_owned(),
            Refusal::Future { .. } => format!(
                "nothing was changed; {new_plan}; a plan made more than {} minutes ahead of this clock is refused",
                MAX_CLOCK_SKEW.whole_minutes()
            ),
            _ => format!("nothing was changed; {new_plan}"),
        }
    }
}

/// `plan_id` shortened for messages: the first 12 characters of its digest, never splitting
/// a character.
pub fn short(plan_id: &str) -> &str {
    let hex = plan_id.strip_prefix("sha256:").unwrap_or(plan_id);
    let end = hex.char_indices().nth(12).map_or(hex.len(), |(at, _)| at);
    &hex[..end]
}

/// Reads a saved plan from its bytes: JSON, [`FORMAT_VERSION`], a plan document, its
/// content matching its `plan_id`.
///
/// # Errors
/// The first [`Refusal`] that applies.
pub fn parse_plan_document(bytes: &[u8]) -> Result<PlanDocument, Refusal> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Refusal::NotAPlan(e.to_string()))?;
    let found = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if found != Some(u64::from(FORMAT_VERSION)) {
        return Err(Refusal::Format { found });
    }
    let document: PlanDocument =
        serde_json::from_value(value).map_err(|e| Refusal::Invalid(e.to_string()))?;
    if document.digest() != document.plan_id {
        return Err(Refusal::Modified(short(&document.plan_id).to_owned()));
    }
    Ok(document)
}

impl PlanDocument {
    /// Whether this plan may be applied by sharedbox `tool_version` to `tenant` at `now`:
    /// the same version, a creation time not in the future, not expired (at most
    /// [`PLAN_LIFETIME`] after it was made, whatever its `expires_at` says), the same tenant.
    ///
    /// # Errors
    /// The first [`Refusal`] that applies.
    pub fn accept(
        &self,
        tool_version: &str,
        tenant: &str,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let id = short(&self.plan_id).to_owned();
        if self.tool_version != tool_version {
            return Err(Refusal::Version {
                id,
                made_by: self.tool_version.clone(),
                this: tool_version.to_owned(),
            });
        }
        let time = |what: &'static str, value: &str| {
            OffsetDateTime::parse(value, &Rfc3339).map_err(|_| Refusal::InvalidTime {
                id: id.clone(),
                what,
                value: value.to_owned(),
            })
        };
        let created = time("creation time", &self.created_at)?;
        let written_expiry = time("expiry", &self.expires_at)?;
        if created > now + MAX_CLOCK_SKEW {
            return Err(Refusal::Future {
                id,
                created_at: self.created_at.clone(),
            });
        }
        // The file cannot lengthen its own life.
        let expires = written_expiry.min(created + PLAN_LIFETIME);
        if now > expires {
            let why = if expires < written_expiry {
                format!(
                    " ({} hours after it was made at {}; its file says {}, which is longer than a saved plan lives)",
                    PLAN_LIFETIME.whole_hours(),
                    self.created_at,
                    self.expires_at
                )
            } else {
                String::new()
            };
            return Err(Refusal::Expired {
                id,
                expired: expires
                    .format(&Rfc3339)
                    .unwrap_or_else(|_| self.expires_at.clone()),
                why,
            });
        }
        if self.tenant != tenant {
            return Err(Refusal::Tenant {
                id,
                plan: self.tenant.clone(),
                configured: tenant.to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(created: OffsetDateTime, expires: OffsetDateTime) -> PlanDocument {
        let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
        let mut document: PlanDocument = serde_json::from_value(serde_json::json!({
            "format_version": FORMAT_VERSION,
            "tool_version": "1.0.0",
            "plan_id": "",
            "tenant": "contoso.onmicrosoft.com",
            "policy_digest": "sha256:00",
            "created_at": at(created),
            "expires_at": at(expires),
            "targets": [],
            "summary": {"create": 0, "change": 0, "revoke": 0, "destroy": 0},
            "mailboxes": [],
            "organization": [],
            "warnings": [],
            "unchanged": [],
            "fingerprints": {},
        }))
        .unwrap();
        document.plan_id = document.digest();
        document
    }

    #[test]
    fn a_plan_is_accepted_only_by_its_version_for_its_tenant_within_its_life() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let tenant = "contoso.onmicrosoft.com";
        let fresh = document(now, now + PLAN_LIFETIME);
        assert_eq!(fresh.accept("1.0.0", tenant, now), Ok(()));
        let bytes = serde_json::to_vec(&fresh).unwrap();
        assert_eq!(parse_plan_document(&bytes), Ok(fresh.clone()));
        assert!(matches!(
            fresh.accept("1.0.1", tenant, now),
            Err(Refusal::Version { .. })
        ));
        assert!(matches!(
            fresh.accept("1.0.0", "fabrikam.onmicrosoft.com", now),
            Err(Refusal::Tenant { .. })
        ));
        // Its own far-future expiry does not lengthen its life.
        let old = document(now - PLAN_LIFETIME * 2, now + PLAN_LIFETIME * 100);
        let refusal = old.accept("1.0.0", tenant, now).unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Expired { why, .. } if why.contains("longer than a saved plan lives")),
            "{refusal}"
        );
        // Made in the future, beyond the clock skew; within it is fine.
        let ahead = document(now + MAX_CLOCK_SKEW * 2, now + PLAN_LIFETIME);
        assert!(matches!(
            ahead.accept("1.0.0", tenant, now),
            Err(Refusal::Future { .. })
        ));
        let skewed = document(now + MAX_CLOCK_SKEW / 2, now + PLAN_LIFETIME);
        assert_eq!(skewed.accept("1.0.0", tenant, now), Ok(()));
    }

    #[test]
    fn files_that_are_not_intact_plans_are_refused() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        assert!(matches!(
            parse_plan_document(b"not json"),
            Err(Refusal::NotAPlan(_))
        ));
        assert!(matches!(
            parse_plan_document(br#"{"format_version": 99}"#),
            Err(Refusal::Format { found: Some(99) })
        ));
        assert!(matches!(
            parse_plan_document(
                &serde_json::to_vec(&serde_json::json!({"format_version": FORMAT_VERSION}))
                    .unwrap()
            ),
            Err(Refusal::Invalid(_))
        ));
        let mut edited = document(now, now + PLAN_LIFETIME);
        edited.tenant = "fabrikam.onmicrosoft.com".into();
        assert!(matches!(
            parse_plan_document(&serde_json::to_vec(&edited).unwrap()),
            Err(Refusal::Modified(_))
        ));
        assert_eq!(short("sha256:ääääääääääääääää"), "ääääääääääää");
    }
}
