//! `web`: serves the officer console (`/officer/…`) and the reporter H5 pages (`/h5/…`, the files
//! of `ui/h5/`).
//!
//! The pages are embedded in the binary at compile time, so the function needs no bucket and no
//! AWS client. Unknown paths get API Gateway's own 404 body.
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
        include_bytes!("../assets/officer/index.html"),
    ),
    (
        "/officer/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
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
    Ok(serve(req.method().as_str(), req.uri().path()))
}

fn serve(method: &str, path: &str) -> Response<Body> {
    if method != "GET" && method != "HEAD" {
        return respond(
            405,
            "application/json",
            Body::from(r#"{"message":"Method Not Allowed"}"#),
        );
    }
    let path = match path {
        "/officer" | "/officer/" => "/officer/index.html",
        "/h5" | "/h5/" => "/h5/index.html",
        p => p,
    };
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
        let resp = serve("GET", "/officer/index.html");
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/html")
        );
    }

    #[test]
    fn the_reporter_pages_are_served_with_or_without_index_html() {
        assert_eq!(serve("GET", "/h5/").status(), 200);
        assert_eq!(serve("GET", "/h5/index.html").status(), 200);
    }

    #[test]
    fn unknown_paths_are_not_found_and_writes_are_refused() {
        assert_eq!(serve("GET", "/officer/nope.js").status(), 404);
        assert_eq!(serve("POST", "/").status(), 405);
    }
}
