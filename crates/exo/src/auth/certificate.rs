//! Certificate credentials without OpenSSL: a client assertion (RFC 7523 JWT, RS256) signed
//! with the app's private key from a PEM file, as Entra ID expects it
//! (`x5t` and `x5t#S256` thumbprints of the certificate uploaded to the app registration).
//!
//! azure_identity's own certificate credential needs OpenSSL and a PKCS#12 file; this keeps
//! the build free of system libraries. Encrypted keys are refused with a hint to decrypt them.

use std::fmt;
use std::path::Path;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::AuthError;

/// How long a signed assertion is valid (Entra accepts up to ten minutes of clock skew).
const LIFETIME_SECONDS: i64 = 600;

/// A private key and its certificate's thumbprints, ready to sign assertions.
pub struct CertificateAssertion {
    key: RsaKeyPair,
    client_id: String,
    audience: String,
    /// The JWT header, base64url-encoded, the same for every assertion.
    header: String,
}

impl fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    /// Reads `path` (PEM: a PKCS#8 or PKCS#1 RSA key and the certificate) for the app
    /// `client_id`; `audience` is the authority's token endpoint.
    pub fn load(path: &Path, client_id: &str, audience: &str) -> Result<Self, AuthError> {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| {
            AuthError::new(
                format!("cannot read the certificate file `{shown}`: {e}"),
                Some("set `tenant.auth.certificatePath` to a PEM file with the private key and the certificate".to_owned()),
            )
        })?;
        Self::from_pem(&pem, &shown.to_string(), client_id, audience)
    }

    /// Like [`CertificateAssertion::load`], from the file's bytes; `name` is for messages.
    pub fn from_pem(
        pem: &[u8],
        name: &str,
        client_id: &str,
        audience: &str,
    ) -> Result<Self, AuthError> {
        let decrypt_hint = || {
            Some(
                "convert it: `openssl pkcs12 -in app.pfx -nodes -out app.pem` (keep the file readable only by the job)"
                    .to_owned(),
            )
        };
        if contains(pem, b"ENCRYPTED PRIVATE KEY") {
            return Err(AuthError::new(
                format!("`{name}` holds an encrypted private key"),
                decrypt_hint(),
            ));
        }
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(der)) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            Ok(_) => {
                return Err(AuthError::new(
                    format!("`{name}` holds a key that is not RSA"),
                    Some("Exchange app certificates are RSA; create one with `openssl req -x509 -newkey rsa:2048 ...`".to_owned()),
                ));
            }
            Err(_) => {
                return Err(AuthError::new(
                    format!("`{name}` holds no private key in PEM form"),
                    decrypt_hint(),
                ));
            }
        }
        .map_err(|e| AuthError::new(format!("`{name}`: the private key is unusable ({e})"), None))?;
        let certificate = CertificateDer::from_pem_slice(pem).map_err(|_| {
            AuthError::new(
                format!("`{name}` holds no certificate"),
                Some(
                    "append the certificate (`-----BEGIN CERTIFICATE-----`) to the key file"
                        .to_owned(),
                ),
            )
        })?;
        if !contains(certificate.as_ref(), key.public_key().as_ref()) {
            return Err(AuthError::new(
                format!("`{name}`: the certificate does not belong to the private key"),
                Some(
                    "put the key and the certificate of the same key pair into the file".to_owned(),
                ),
            ));
        }
        let der = certificate.as_ref();
        let header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, der)),
            "x5t#S256": URL_SAFE_NO_PAD.encode(digest(&SHA256, der)),
        });
        Ok(CertificateAssertion {
            key,
            client_id: client_id.to_owned(),
            audience: audience.to_owned(),
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
        })
    }

    /// A signed assertion valid from `now` for ten minutes.
    pub fn sign(&self, now: time::OffsetDateTime) -> Result<String, AuthError> {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti)
            .map_err(|_| AuthError::new("no randomness for the assertion's `jti`", None))?;
        let issued = now.unix_timestamp();
        let claims = serde_json::json!({
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "nbf": issued,
            "iat": issued,
            "exp": issued + LIFETIME_SECONDS,
        });
        let signed = format!(
            "{}.{}",
            self.header,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AuthError::new("cannot sign the client assertion", None))?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.sign(time::OffsetDateTime::now_utc()).map_err(|e| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e.message)
        })
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn fixture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/test-app-certificate.pem"
        );
        std::fs::read(path).unwrap()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_is_a_verifiable_rs256_jwt_with_the_certificate_thumbprints() {
        let audience =
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
        let assertion =
            CertificateAssertion::from_pem(&fixture(), "app.pem", "app-id", audience).unwrap();
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let jwt = assertion.sign(now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "RS256");
        // `openssl x509 -fingerprint -sha1` / `-sha256` of the fixture's certificate.
        let sha1 = hex("C9FEFF7E99EF151209D1501FA9DC6CD060500F0C");
        let sha256 = hex("CE80B8B74F70C1E9B238434117F519A2AC34FF9421067CF4157D66E48AB0A10C");
        assert_eq!(header["x5t"], URL_SAFE_NO_PAD.encode(sha1));
        assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode(sha256));
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], audience);
        assert_eq!(claims["iss"], "app-id");
        assert_eq!(claims["sub"], "app-id");
        assert_eq!(claims["exp"], 1_800_000_600);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA256,
            assertion.key.public_key().as_ref().to_vec(),
        );
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("signature verifies with the certificate's key");
        assert_ne!(
            jwt,
            assertion.sign(now).unwrap(),
            "every assertion has its own jti"
        );
    }

    #[test]
    fn unusable_files_are_refused_with_a_reason() {
        let pem = fixture();
        let text = String::from_utf8(pem.clone()).unwrap();
        let key_only: String = text
            .split("-----BEGIN CERTIFICATE-----")
            .next()
            .unwrap()
            .to_owned();
        let err =
            CertificateAssertion::from_pem(key_only.as_bytes(), "k.pem", "a", "aud").unwrap_err();
        assert!(err.message.contains("no certificate"), "{}", err.message);
        let cert_only = &text[text.find("-----BEGIN CERTIFICATE-----").unwrap()..];
        let err =
            CertificateAssertion::from_pem(cert_only.as_bytes(), "c.pem", "a", "aud").unwrap_err();
        assert!(err.message.contains("no private key"), "{}", err.message);
        let encrypted =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = CertificateAssertion::from_pem(encrypted, "e.pem", "a", "aud").unwrap_err();
        assert!(err.message.contains("encrypted"));
        assert!(err.hint.unwrap().contains("openssl pkcs12"));
    }

    #[test]
    fn a_certificate_of_another_key_is_refused() {
        let text = String::from_utf8(fixture()).unwrap();
        // The fixture's certificate with a freshly generated key is a mismatch.
        let fresh =
            aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&fresh).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n{}",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref()),
            &text[text.find("-----BEGIN CERTIFICATE-----").unwrap()..]
        );
        let err = CertificateAssertion::from_pem(pem.as_bytes(), "m.pem", "a", "aud").unwrap_err();
        assert!(err.message.contains("does not belong"), "{}", err.message);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
