//! What `sharedbox doctor` shows of a token: the claims of its JWT payload, read without
//! verifying the signature (the server verifies; this is for display only).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::AccessToken;

/// The claims that say who a token is for and what it may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenClaims {
    /// The audience (the Exchange Online resource).
    #[serde(default)]
    pub aud: Option<String>,
    /// The Entra tenant ID.
    #[serde(default)]
    pub tid: Option<String>,
    /// The signed-in user, for delegated tokens.
    #[serde(default)]
    pub upn: Option<String>,
    /// The application's client ID.
    #[serde(default)]
    pub appid: Option<String>,
    /// Application permissions (`Exchange.ManageAsApp`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated scopes, space-separated in the token.
    #[serde(default, deserialize_with = "scopes")]
    pub scp: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<i64>,
}

fn scopes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// The claims of a JWT access token; `None` for opaque tokens.
pub fn claims(token: &AccessToken) -> Option<TokenClaims> {
    let payload = token.secret().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: serde_json::Value) -> AccessToken {
        let body = URL_SAFE_NO_PAD.encode(payload.to_string());
        AccessToken::new(format!("eyJhbGciOiJub25lIn0.{body}.sig"), None)
    }

    #[test]
    fn app_and_delegated_claims_are_read() {
        let app = claims(&jwt(serde_json::json!({
            "aud": "https://outlook.office365.com",
            "tid": "t-1",
            "appid": "a-1",
            "roles": ["Exchange.ManageAsApp"],
            "exp": 1_800_000_000
        })))
        .unwrap();
        assert_eq!(app.roles, ["Exchange.ManageAsApp"]);
        assert_eq!(app.appid.as_deref(), Some("a-1"));
        assert!(app.scp.is_empty());
        let user = claims(&jwt(serde_json::json!({"upn": "admin@contoso.com", "scp": "Exchange.Manage AdminApi.AccessAsUser.All"}))).unwrap();
        assert_eq!(user.scp, ["Exchange.Manage", "AdminApi.AccessAsUser.All"]);
        assert_eq!(claims(&AccessToken::new("opaque", None)), None);
    }
}
