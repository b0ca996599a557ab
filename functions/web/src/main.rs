//! `web`: serves the officer console (`/officer/…`, the files of `ui/officer/`) and the reporter
//! H5 pages (`/h5/…`, the files of `ui/h5/`).
//!
//! The pages are embedded in the binary at compile time, so the function needs no bucket and no
//! AWS client. Unknown paths get API Gateway's own 404 body.
//!
//! Every answer carries a Content-Security-Policy without inline script and with
//! `frame-ancestors 'none'` ([`csp`]; the console's is strict: its own origin only, QR images
//! as `data:`), `X-Frame-Options: DENY`, `nosniff`, `no-referrer`, and HSTS when the request
//! came over https (`X-Forwarded-Proto`, as API Gateway sets it).
//!
//! # Layout
//! - [`ASSETS`]: path → content type and bytes.
//! - [`handler`]: GET only.

use lambda_http::{Body, Error, Request, Response, service_fn};

/// Every page and asset, by the path it is served at.
static ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "/officer/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../ui/officer/index.html"),
    ),
    (
        "/officer/login.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../ui/officer/login.html"),
    ),
    (
        "/officer/session.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/session.js"),
    ),
    (
        "/officer/login.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/login.js"),
    ),
    (
        "/officer/console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/console.js"),
    ),
    (
        "/officer/admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/admin.js"),
    ),
    (
        "/officer/dom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/dom.js"),
    ),
    (
        "/officer/inbox.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/inbox.js"),
    ),
    (
        "/officer/clue.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/clue.js"),
    ),
    (
        "/officer/bulletins.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/bulletins.js"),
    ),
    (
        "/officer/reminders.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/reminders.js"),
    ),
    (
        "/officer/supervision.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/supervision.js"),
    ),
    (
        "/officer/scope.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/scope.js"),
    ),
    (
        // Apache ECharts (Apache-2.0), pinned in ui/officer/vendor/package-lock.json and
        // installed by infra/dev; build.rs explains when it is missing.
        "/officer/echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/vendor/node_modules/echarts/dist/echarts.min.js"),
    ),
    (
        "/officer/stats.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/officer/stats.js"),
    ),
    (
        "/officer/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../ui/officer/style.css"),
    ),
    (
        "/h5/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../ui/h5/index.html"),
    ),
    (
        "/h5/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/h5/app.js"),
    ),
    (
        "/h5/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../ui/h5/style.css"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    lambda_http::run(service_fn(handler)).await
}

async fn handler(req: Request) -> Result<Response<Body>, Error> {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Ok(serve(req.method().as_str(), req.uri().path(), https))
}

/// The Content-Security-Policy of `path`: the console loads nothing but its own files (and the
/// enrolment QR code as a `data:` image) and talks only to its own origin; the reporter pages
/// keep scripts to their own files (their uploads go to the evidence bucket's origin).
fn csp(path: &str) -> &'static str {
    if path.starts_with("/officer/") {
        // Evidence images come from short-lived presigned bucket links (another origin; images
        // cannot run script): https anywhere, and the emulator on loopback.
        "default-src 'none'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: https: http://127.0.0.1:*; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    } else {
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    }
}

fn serve(method: &str, path: &str, https: bool) -> Response<Body> {
    let resp = serve_plain(method, path);
    let (mut parts, body) = resp.into_parts();
    let h = &mut parts.headers;
    let path = normalise(path);
    h.insert(
        "content-security-policy",
        lambda_http::http::HeaderValue::from_static(csp(path)),
    );
    h.insert(
        "x-frame-options",
        lambda_http::http::HeaderValue::from_static("DENY"),
    );
    h.insert(
        "referrer-policy",
        lambda_http::http::HeaderValue::from_static("no-referrer"),
    );
    if https {
        h.insert(
            "strict-transport-security",
            lambda_http::http::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    Response::from_parts(parts, body)
}

fn normalise(path: &str) -> &str {
    match path {
        "/officer" | "/officer/" => "/officer/index.html",
        "/h5" | "/h5/" => "/h5/index.html",
        p => p,
    }
}

fn serve_plain(method: &str, path: &str) -> Response<Body> {
    if method != "GET" && method != "HEAD" {
        return respond(
            405,
            "application/json",
            Body::from(r#"{"message":"Method Not Allowed"}"#),
        );
    }
    let path = normalise(path);
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, bytes)) => respond(200, content_type, Body::from(*bytes)),
        None => respond(
            404,
            "application/json",
            Body::from(r#"{"message":"Not Found"}"#),
        ),
    }
}

fn respond(status: u16, content_type: &str, body: Body) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .body(body)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_officer_console_is_served_from_the_binary() {
        let resp = serve("GET", "/officer/index.html", false);
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html")
        );
    }

    #[test]
    fn the_console_serves_its_own_bundled_echarts_and_the_dashboard() {
        for path in ["/officer/echarts.min.js", "/officer/stats.js"] {
            let resp = serve("GET", path, false);
            assert_eq!(resp.status(), 200, "{path}");
            assert!(header(&resp, "content-type").starts_with("text/javascript"));
        }
        let resp = serve("GET", "/officer/echarts.min.js", false);
        let Body::Binary(bytes) = resp.body() else {
            panic!("a file is served as bytes");
        };
        assert!(bytes.len() > 100_000, "the whole library, not a stub");
        assert!(String::from_utf8_lossy(&bytes[..2000]).contains("Apache"));
        // Loaded from the console's own origin: no CDN in the policy.
        let policy = csp("/officer/index.html");
        assert!(policy.contains("script-src 'self';"), "{policy}");
    }

    #[test]
    fn the_reporter_pages_are_served_with_or_without_index_html() {
        assert_eq!(serve("GET", "/h5/", false).status(), 200);
        assert_eq!(serve("GET", "/h5/index.html", false).status(), 200);
    }

    fn header(resp: &Response<Body>, name: &str) -> String {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn every_page_gets_the_security_headers_and_hsts_over_https() {
        for path in [
            "/",
            "/officer/",
            "/officer/login.html",
            "/h5/index.html",
            "/nope",
        ] {
            let resp = serve("GET", path, true);
            let csp = header(&resp, "content-security-policy");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(header(&resp, "x-frame-options"), "DENY");
            assert!(header(&resp, "strict-transport-security").starts_with("max-age="));
        }
        let console = serve("GET", "/officer/index.html", false);
        assert!(header(&console, "content-security-policy").starts_with("default-src 'none'"));
        assert_eq!(
            header(&console, "strict-transport-security"),
            "",
            "not over http"
        );
    }

    #[test]
    fn the_console_pages_have_no_inline_script() {
        for (path, _, bytes) in ASSETS.iter().filter(|(p, _, _)| p.ends_with(".html")) {
            let text = String::from_utf8_lossy(bytes);
            for tag in text.split("<script").skip(1) {
                let open = tag.split('>').next().unwrap_or_default();
                assert!(open.contains("src="), "{path}: inline <script{open}>");
            }
            assert!(!text.contains(" onclick="), "{path}: inline handler");
        }
        assert_eq!(serve("GET", "/officer/session.js", false).status(), 200);
        assert_eq!(serve("GET", "/officer/login.js", false).status(), 200);
    }

    #[test]
    fn unknown_paths_are_not_found_and_writes_are_refused() {
        assert_eq!(serve("GET", "/officer/nope.js", false).status(), 404);
        assert_eq!(serve("POST", "/", false).status(), 405);
    }
}
