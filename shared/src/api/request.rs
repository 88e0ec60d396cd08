//! Reading a request: the caller's identity, path and query parameters, the JSON body.

use std::str::FromStr;

use lambda_http::{Request, RequestExt, request::RequestContext};
use serde::de::DeserializeOwned;

use super::ApiError;

/// The largest JSON body any route reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who is calling, from the claims API Gateway's JWT authorizer has already verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub groups: Vec<String>,
    /// The `email` claim, when the token has one.
    pub email: Option<String>,
}

impl Identity {
    pub fn of(req: &Request) -> Option<Self> {
        let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
            return None;
        };
        let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
        let sub = claims.get("sub").filter(|s| !s.is_empty())?.clone();
        let groups = claims
            .get("cognito:groups")
            .map(|g| parse_groups(g))
            .unwrap_or_default();
        let email = claims.get("email").filter(|e| !e.is_empty()).cloned();
        Some(Self { sub, groups, email })
    }

    /// How an audit names the caller: the e-mail address, else the subject.
    pub fn name(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.sub)
    }

    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == "admin")
    }

    /// Door staff: the `staff` group, and administrators.
    pub fn is_staff(&self) -> bool {
        self.is_admin() || self.groups.iter().any(|g| g == "staff")
    }
}

/// API Gateway passes an array claim as a string: `[admin staff]`; a JSON array or a comma
/// list are read too.
fn parse_groups(raw: &str) -> Vec<String> {
    raw.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .map(|g| g.trim().trim_matches('"'))
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The caller, who must be in the `admin` group: 401 without identity, 403 without the group.
pub fn require_admin(req: &Request) -> Result<Identity, ApiError> {
    caller_who(req, Identity::is_admin, ApiError::Forbidden)
}

/// The caller, who must be door staff (`staff` or `admin`): 401 without identity, 403 without.
pub fn require_staff(req: &Request) -> Result<Identity, ApiError> {
    caller_who(req, Identity::is_staff, ApiError::StaffOnly)
}

/// The caller if `allowed`; 401 without identity, `refused` otherwise.
fn caller_who(
    req: &Request,
    allowed: fn(&Identity) -> bool,
    refused: ApiError,
) -> Result<Identity, ApiError> {
    let identity = Identity::of(req).ok_or(ApiError::Unauthorized)?;
    if allowed(&identity) {
        Ok(identity)
    } else {
        Err(refused)
    }
}

pub fn path_param<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.path_parameters_ref().and_then(|p| p.first(name))
}

/// A path id; one that is missing or cannot be an id names nothing that exists: 404.
pub fn path_id<T: FromStr>(req: &Request, name: &str, what: &'static str) -> Result<T, ApiError> {
    path_param(req, name)
        .and_then(|v| v.parse().ok())
        .ok_or(ApiError::NotFound(what))
}

/// Items a list returns when `limit` is not given, and the most it returns.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// A list's `limit`: 400 when not a number, 422 outside 1..=100.
pub fn page_limit(req: &Request) -> Result<u32, ApiError> {
    whole_param(req, "limit", DEFAULT_PAGE, 1..=MAX_PAGE)
}

/// A whole-number query parameter, `default` when absent: 400 when not a number, 422 outside
/// `range`.
pub fn whole_param(
    req: &Request,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let Some(raw) = query_param(req, name) else {
        return Ok(default);
    };
    let n: i64 = raw
        .parse()
        .map_err(|_| ApiError::Malformed(format!("`{name}` must be a whole number")))?;
    u32::try_from(n)
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            crate::domain::Invalid::new(
                name,
                format!("must be between {} and {}", range.start(), range.end()),
            )
            .into()
        })
}

pub fn query_param<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

/// The body as JSON of type `T`: 413 when too large, 415 when declared as something else,
/// 400 when it is not JSON of that shape.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let media = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if media.is_some_and(|m| m != "application/json" && !m.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Malformed(
            "the body is empty; send a JSON object".into(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Malformed(format!("the body is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_in_every_shape_api_gateway_sends() {
        assert_eq!(parse_groups("[admin]"), ["admin"]);
        assert_eq!(parse_groups("[admin staff]"), ["admin", "staff"]);
        assert_eq!(parse_groups(r#"["admin","staff"]"#), ["admin", "staff"]);
        assert_eq!(parse_groups("admin, staff"), ["admin", "staff"]);
        assert!(parse_groups("[]").is_empty());
        assert!(!parse_groups("[administrators]").contains(&"admin".to_string()));
    }
}
