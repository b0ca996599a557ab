//! The HTTP shapes the API handlers work with, independent of the Lambda event types: a small
//! [`Req`] and [`Resp`], stable JSON errors ([`ApiError`]), cookie helpers, and the mapping from
//! and to API Gateway payload v2 events ([`Req::from_lambda`], [`Resp::into_lambda`]; for a
//! function that takes queue events too, [`Req::from_v2`], [`Resp::into_v2`]), and the one
//! [`router`] every API function routes with.

pub mod router;

pub mod origin;

use std::collections::HashMap;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

pub use origin::{OriginError, PublicOrigin};

/// The largest request body read (the callback's XML is at most 64 KiB; a clue's JSON is small).
pub const MAX_BODY: usize = 256 * 1024;

/// A request as the handlers see it.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    /// First value of each query parameter.
    pub query: HashMap<String, String>,
    /// Lower-case header names.
    pub headers: HashMap<String, String>,
    pub cookies: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The JWT authorizer's claims (empty on routes without one).
    pub claims: HashMap<String, String>,
}

impl Req {
    /// A request with no headers, query or body (tests build on it).
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            ..Self::default()
        }
    }

    /// The request of an API Gateway (payload v2) event: first value of each query parameter,
    /// headers by lower-case name, cookies parsed, the body decoded, the authorizer's claims.
    pub fn from_lambda(req: &Request) -> Self {
        let mut r = Self::new(req.method().as_str(), req.uri().path());
        for (k, v) in req
            .query_string_parameters_ref()
            .into_iter()
            .flat_map(|q| q.iter())
        {
            r.query.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
        for (k, v) in req.headers() {
            if let Ok(v) = v.to_str() {
                if k == "cookie" {
                    r.parse_cookies(v);
                } else {
                    r.headers.insert(k.as_str().to_owned(), v.to_owned());
                }
            }
        }
        r.body = match req.body() {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Binary(b) => b.clone(),
            _ => Vec::new(),
        };
        if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
            && let Some(jwt) = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref())
        {
            r.claims = jwt.claims.clone();
        }
        r
    }

    /// The request of an API Gateway payload v2 event a function received itself (one that also
    /// takes other events, e.g. a queue's): the same mapping as [`Req::from_lambda`].
    pub fn from_v2(event: ApiGatewayV2httpRequest) -> Self {
        Self::from_lambda(&Request::from(LambdaRequest::ApiGatewayV2(event)))
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Parses the `cookie` header(s) into [`Req::cookies`].
    pub fn parse_cookies(&mut self, header: &str) {
        for part in header.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                self.cookies
                    .entry(k.trim().to_owned())
                    .or_insert_with(|| v.trim().to_owned());
            }
        }
    }

    /// Refuses a state-changing browser request from anywhere but the platform's own pages:
    /// the body must be `application/json` (a cross-site form or `text/plain` POST cannot be,
    /// and a cross-site `fetch` with it needs a CORS preflight the API never grants), and when
    /// the browser says where the request comes from (`Sec-Fetch-Site`, `Origin`), it must be
    /// the public origin. A client that sends neither header is not a browser acting for
    /// someone else's page.
    ///
    /// # Errors
    /// 415 `unsupported_media_type`, 403 `cross_origin`.
    pub fn check_browser_post(&self, public: &PublicOrigin) -> Result<(), ApiError> {
        let json = self.header("content-type").is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case("application/json")
        });
        if !json {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                "请求格式错误，请在页面中重新提交",
            ));
        }
        let foreign_site = self
            .header("sec-fetch-site")
            .is_some_and(|s| s != "same-origin");
        let foreign_origin = self.header("origin").is_some_and(|o| !public.matches(o));
        if foreign_site || foreign_origin {
            return Err(ApiError::forbidden(
                "cross_origin",
                "请求来源不正确，请在12336举报页面中提交",
            ));
        }
        Ok(())
    }
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// A binary body (a file download), sent base64-encoded in place of `body`.
    pub bytes: Option<Vec<u8>>,
}

impl Resp {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned()),
            bytes: None,
        }
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            bytes: None,
        }
    }

    /// A file download: `bytes` of `content_type`, saved as `filename` (ASCII).
    pub fn file(content_type: &str, filename: &str, bytes: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), content_type.into()),
                (
                    "content-disposition".into(),
                    format!("attachment; filename=\"{filename}\""),
                ),
                ("cache-control".into(), "no-store".into()),
            ],
            body: String::new(),
            bytes: Some(bytes),
        }
    }

    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("location".into(), location.into())],
            body: String::new(),
            bytes: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The response for `lambda_http`.
    ///
    /// # Errors
    /// A header name or value HTTP does not allow.
    pub fn into_lambda(self) -> Result<Response<Body>, lambda_http::http::Error> {
        let mut out = Response::builder().status(self.status);
        for (k, v) in &self.headers {
            out = out.header(k, v);
        }
        match self.bytes {
            Some(bytes) => out.body(Body::Binary(bytes)),
            None => out.body(Body::from(self.body)),
        }
    }

    /// The payload v2 response of a function that answers API Gateway events itself (see
    /// [`Req::from_v2`]): `Set-Cookie` headers go to `cookies`, as API Gateway expects.
    pub fn into_v2(self) -> ApiGatewayV2httpResponse {
        let mut out = ApiGatewayV2httpResponse::default();
        out.status_code = i64::from(self.status);
        for (k, v) in self.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                out.cookies.push(v);
            } else if let (Ok(name), Ok(value)) = (
                lambda_http::http::HeaderName::try_from(k.as_str()),
                lambda_http::http::HeaderValue::try_from(v.as_str()),
            ) {
                out.headers.append(name, value);
            }
        }
        out.body = Some(Body::Text(self.body));
        out
    }

    /// The body as JSON (tests).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The error code of an error response (tests).
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()?
            .pointer("/error/code")?
            .as_str()
            .map(str::to_owned)
    }
}

/// A refusal: an HTTP status, a stable code, a Chinese message for the reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(401, "unauthenticated", "请在微信中打开并登录")
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }

    pub fn not_found(code: &'static str) -> Self {
        Self::new(404, code, "未找到")
    }

    pub fn unavailable() -> Self {
        Self::new(503, "unavailable", "服务暂时不可用，请稍后再试")
    }

    pub fn into_resp(self) -> Resp {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
        }
        Resp::json(
            self.status,
            &Body {
                error: Inner {
                    code: self.code,
                    message: &self.message,
                },
            },
        )
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/api/reporter`, Secure over https.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Max-Age={max_age}; Path=/api/reporter; HttpOnly; SameSite=Lax{secure}")
}

/// What [`encode`] leaves as it is: the unreserved characters of RFC 3986.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query value (every byte but RFC 3986's unreserved characters).
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_split_and_the_first_value_wins() {
        let mut r = Req::new("GET", "/");
        r.parse_cookies("a=1; rs=xyz=; a=2");
        assert_eq!(r.cookie("a"), Some("1"));
        assert_eq!(r.cookie("rs"), Some("xyz="));
    }

    #[test]
    fn errors_have_a_stable_shape() {
        let r = ApiError::bad_request("bad_json", "请求格式错误").into_resp();
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body,
            r#"{"error":{"code":"bad_json","message":"请求格式错误"}}"#
        );
        assert_eq!(r.error_code().as_deref(), Some("bad_json"));
    }

    #[test]
    fn browser_posts_must_be_json_from_the_public_origin() {
        let public = PublicOrigin::parse("https://12336.example.cn").expect("origin");
        let post = |headers: &[(&str, &str)]| {
            let mut r = Req::new("POST", "/api/reporter/clues");
            for (k, v) in headers {
                r.headers.insert((*k).to_owned(), (*v).to_owned());
            }
            r.check_browser_post(&public).map_err(|e| e.code)
        };
        let json = ("content-type", "application/json; charset=utf-8");
        assert_eq!(post(&[json]), Ok(()));
        assert_eq!(
            post(&[
                json,
                ("origin", "https://12336.example.cn"),
                ("sec-fetch-site", "same-origin")
            ]),
            Ok(())
        );
        assert_eq!(post(&[]), Err("unsupported_media_type"));
        assert_eq!(
            post(&[("content-type", "text/plain")]),
            Err("unsupported_media_type")
        );
        assert_eq!(
            post(&[("content-type", "application/x-www-form-urlencoded")]),
            Err("unsupported_media_type")
        );
        assert_eq!(
            post(&[json, ("origin", "https://evil.example")]),
            Err("cross_origin")
        );
        assert_eq!(post(&[json, ("origin", "null")]), Err("cross_origin"));
        assert_eq!(
            post(&[json, ("sec-fetch-site", "cross-site")]),
            Err("cross_origin")
        );
        assert_eq!(
            post(&[json, ("sec-fetch-site", "same-site")]),
            Err("cross_origin")
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("http://a/b?c=d"), "http%3A%2F%2Fa%2Fb%3Fc%3Dd");
        assert_eq!(encode("a-b_c.d~e f"), "a-b_c.d~e%20f");
        assert_eq!(encode("举报"), "%E4%B8%BE%E6%8A%A5");
    }

    #[test]
    fn a_payload_v2_event_maps_like_the_http_runtime_and_back() {
        let event: ApiGatewayV2httpRequest = serde_json::from_str(
            r#"{"version":"2.0","routeKey":"POST /api/reporter/uploads","rawPath":"/api/reporter/uploads","rawQueryString":"a=1","queryStringParameters":{"a":"1"},"cookies":["rs=s1","x=2"],"headers":{"content-type":"application/json"},"requestContext":{"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"d","http":{"method":"POST","path":"/api/reporter/uploads","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"t"},"requestId":"r","routeKey":"POST /api/reporter/uploads","stage":"$default","time":"t","timeEpoch":0},"body":"{}","isBase64Encoded":false}"#,
        )
        .expect("event");
        let req = Req::from_v2(event);
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("POST", "/api/reporter/uploads")
        );
        assert_eq!((req.cookie("rs"), req.cookie("x")), (Some("s1"), Some("2")));
        assert_eq!(req.query("a"), Some("1"));
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.body, b"{}");
        let out = ApiError::not_found("no_route")
            .into_resp()
            .with_header("set-cookie", "rs=; Max-Age=0")
            .into_v2();
        assert_eq!(out.status_code, 404);
        assert_eq!(out.cookies, ["rs=; Max-Age=0"]);
        assert_eq!(
            out.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert!(matches!(out.body, Some(Body::Text(t)) if t.contains("no_route")));
    }
}
