//! Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616 / RFC 8760): MD5 and
//! SHA-256, with and without `qop=auth`. Client side: answer a 401/407 challenge. Server side:
//! issue a challenge and verify credentials. Pure functions; nonces come from the caller.
//!
//! MD5 is the crate's own (`berofos::auth::md5`), SHA-256 comes from `sha2`.

use std::fmt;
use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use super::header::AuthParams;
use crate::berofos::auth::md5;

/// The hash of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// From the `algorithm` parameter; absent means MD5 (RFC 2617). `-sess` variants are not
    /// supported: SIP servers do not use them in practice.
    pub fn parse(s: Option<&str>) -> Option<Algorithm> {
        match s {
            None => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5") => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => Some(Algorithm::Sha256),
            Some(_) => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// The lower-case hex digest of `data`.
    pub fn hex(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => md5(data.as_bytes()).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
        };
        bytes.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// Why a challenge or credentials were not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestError {
    NotDigest,
    UnsupportedAlgorithm,
    /// A parameter the exchange needs is missing.
    Missing(&'static str),
    /// The server offered qop values but not `auth` (we do not do `auth-int`).
    NoAuthQop,
    /// Credentials for another realm or nonce than the one we issued.
    WrongRealmOrNonce,
    /// The response does not match: wrong password, user, or method/URI.
    BadResponse,
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::NotDigest => write!(f, "not a Digest header"),
            DigestError::UnsupportedAlgorithm => write!(f, "unsupported digest algorithm"),
            DigestError::Missing(p) => write!(f, "missing {p} parameter"),
            DigestError::NoAuthQop => write!(f, "qop offered without auth"),
            DigestError::WrongRealmOrNonce => write!(f, "wrong realm or nonce"),
            DigestError::BadResponse => write!(f, "digest response does not match"),
        }
    }
}

impl std::error::Error for DigestError {}

/// A challenge read from WWW-Authenticate or Proxy-Authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// Whether `qop=auth` is to be used.
    pub qop_auth: bool,
    pub stale: bool,
}

impl Challenge {
    pub fn from_params(p: &AuthParams) -> Result<Challenge, DigestError> {
        if !p.scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest);
        }
        let algorithm = Algorithm::parse(p.get("algorithm")).ok_or(DigestError::UnsupportedAlgorithm)?;
        let qop_auth = match p.get("qop") {
            None => false,
            Some(q) if q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")) => true,
            Some(_) => return Err(DigestError::NoAuthQop),
        };
        Ok(Challenge {
            realm: p.get("realm").ok_or(DigestError::Missing("realm"))?.to_owned(),
            nonce: p.get("nonce").ok_or(DigestError::Missing("nonce"))?.to_owned(),
            opaque: p.get("opaque").map(str::to_owned),
            algorithm,
            qop_auth,
            stale: p.get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The header value a server sends (WWW-Authenticate or Proxy-Authenticate).
    pub fn to_params(&self) -> AuthParams {
        let mut params = vec![("realm".to_owned(), self.realm.clone()), ("nonce".to_owned(), self.nonce.clone())];
        if let Some(o) = &self.opaque {
            params.push(("opaque".to_owned(), o.clone()));
        }
        if self.stale {
            params.push(("stale".to_owned(), "TRUE".to_owned()));
        }
        params.push(("algorithm".to_owned(), self.algorithm.name().to_owned()));
        if self.qop_auth {
            // A quoted list in a challenge (RFC 2617 §3.2.1), unlike the token in credentials.
            params.push(("qop".to_owned(), "auth".to_owned()));
        }
        AuthParams { scheme: "Digest".to_owned(), params }
    }
}

/// The `response` value (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1). `qop` is `Some((nc, cnonce))`
/// with `qop=auth`, `None` for the RFC 2069 form many SIP servers still use.
#[allow(clippy::too_many_arguments)]
pub fn response(
    alg: Algorithm,
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let ha1 = alg.hex(&format!("{user}:{realm}:{password}"));
    response_with_ha1(alg, &ha1, method, uri, nonce, qop)
}

/// The same from a stored HA1, so a server need not keep passwords in clear.
pub fn response_with_ha1(
    alg: Algorithm,
    ha1: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let ha2 = alg.hex(&format!("{method}:{uri}"));
    match qop {
        Some((nc, cnonce)) => alg.hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => alg.hex(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// Client side: the Authorization (or Proxy-Authorization) value answering `c` for a request
/// `method` to `uri` (the Request-URI as sent). `nc` counts uses of this nonce from 1.
pub fn authorization(
    c: &Challenge,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> AuthParams {
    let nc_text = format!("{nc:08x}");
    let qop = c.qop_auth.then_some((nc_text.as_str(), cnonce));
    let resp = response(c.algorithm, user, &c.realm, password, method, uri, &c.nonce, qop);
    let mut params = vec![
        ("username".to_owned(), user.to_owned()),
        ("realm".to_owned(), c.realm.clone()),
        ("nonce".to_owned(), c.nonce.clone()),
        ("uri".to_owned(), uri.to_owned()),
        ("response".to_owned(), resp),
        ("algorithm".to_owned(), c.algorithm.name().to_owned()),
    ];
    if c.qop_auth {
        params.push(("qop".to_owned(), "auth".to_owned()));
        params.push(("nc".to_owned(), nc_text));
        params.push(("cnonce".to_owned(), cnonce.to_owned()));
    }
    if let Some(o) = &c.opaque {
        params.push(("opaque".to_owned(), o.clone()));
    }
    AuthParams { scheme: "Digest".to_owned(), params }
}

/// Server side: checks credentials against the challenge we issued and the user's HA1
/// (`alg.hex("user:realm:password")`). The method is the request's; the URI is taken from the
/// credentials, as proxies may rewrite the Request-URI (§22.4 leaves the check to policy).
pub fn verify(issued: &Challenge, creds: &AuthParams, method: &str, ha1: &str) -> Result<(), DigestError> {
    if !creds.scheme.eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let alg = Algorithm::parse(creds.get("algorithm")).ok_or(DigestError::UnsupportedAlgorithm)?;
    if alg != issued.algorithm {
        return Err(DigestError::UnsupportedAlgorithm);
    }
    if creds.get("realm") != Some(issued.realm.as_str()) || creds.get("nonce") != Some(issued.nonce.as_str()) {
        return Err(DigestError::WrongRealmOrNonce);
    }
    let uri = creds.get("uri").ok_or(DigestError::Missing("uri"))?;
    let given = creds.get("response").ok_or(DigestError::Missing("response"))?;
    let qop = match creds.get("qop") {
        Some(q) if q.eq_ignore_ascii_case("auth") => Some((
            creds.get("nc").ok_or(DigestError::Missing("nc"))?,
            creds.get("cnonce").ok_or(DigestError::Missing("cnonce"))?,
        )),
        Some(_) => return Err(DigestError::NoAuthQop),
        None if issued.qop_auth => return Err(DigestError::Missing("qop")),
        None => None,
    };
    let want = response_with_ha1(alg, ha1, method, uri, &issued.nonce, qop);
    // Compare without an early exit so timing says nothing about how much matched.
    let same = want.len() == given.len()
        && want.bytes().zip(given.bytes().map(|b| b.to_ascii_lowercase())).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(DigestError::BadResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example() {
        // RFC 2617 §3.5.
        let r = response(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("00000001", "0a4f113b")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_examples() {
        // RFC 7616 §3.9.1, MD5 and SHA-256.
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let args = ("Mufasa", "http-auth@example.org", "Circle of Life", "GET", "/dir/index.html");
        let md5r = response(Algorithm::Md5, args.0, args.1, args.2, args.3, args.4, nonce, Some(("00000001", cnonce)));
        assert_eq!(md5r, "8ca523f5e9506fed4657c9700eebdbec");
        let shar =
            response(Algorithm::Sha256, args.0, args.1, args.2, args.3, args.4, nonce, Some(("00000001", cnonce)));
        assert_eq!(shar, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    }

    #[test]
    fn client_and_server_agree() {
        for (alg, qop) in [(Algorithm::Md5, false), (Algorithm::Md5, true), (Algorithm::Sha256, true)] {
            let issued = Challenge {
                realm: "spangate".into(),
                nonce: "n0nce".into(),
                opaque: Some("op".into()),
                algorithm: alg,
                qop_auth: qop,
                stale: false,
            };
            // Through the header text, as on the wire.
            let wire = issued.to_params().to_string();
            let c = Challenge::from_params(&AuthParams::parse(&wire).unwrap()).unwrap();
            assert_eq!(c, issued);
            let creds = authorization(&c, "5678", "secret", "REGISTER", "sip:127.0.0.1:5060", 1, "abc");
            let creds = AuthParams::parse(&creds.to_string()).unwrap();
            let ha1 = alg.hex("5678:spangate:secret");
            assert_eq!(verify(&issued, &creds, "REGISTER", &ha1), Ok(()));
            assert_eq!(verify(&issued, &creds, "INVITE", &ha1), Err(DigestError::BadResponse));
            assert_eq!(
                verify(&issued, &creds, "REGISTER", &alg.hex("5678:spangate:wrong")),
                Err(DigestError::BadResponse)
            );
            let other = Challenge { nonce: "other".into(), ..issued.clone() };
            assert_eq!(verify(&other, &creds, "REGISTER", &ha1), Err(DigestError::WrongRealmOrNonce));
        }
    }

    #[test]
    fn sipp_style_challenge() {
        // What sipp's registrar scenario sends: no qop, no algorithm.
        let p = AuthParams::parse("Digest realm=\"sipp.example\", nonce=\"1234abcd\"").unwrap();
        let c = Challenge::from_params(&p).unwrap();
        assert_eq!((c.algorithm, c.qop_auth), (Algorithm::Md5, false));
        let a = authorization(&c, "5678", "secret", "REGISTER", "sip:127.0.0.1:5060", 1, "x");
        assert!(a.get("qop").is_none());
        assert_eq!(a.get("response").map(str::len), Some(32));
        assert_eq!(
            Challenge::from_params(
                &AuthParams::parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256").unwrap()
            ),
            Err(DigestError::UnsupportedAlgorithm)
        );
        assert_eq!(
            Challenge::from_params(&AuthParams::parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"").unwrap()),
            Err(DigestError::NoAuthQop)
        );
        assert_eq!(
            Challenge::from_params(&AuthParams::parse("Basic realm=\"r\"").unwrap()),
            Err(DigestError::NotDigest)
        );
    }
}
