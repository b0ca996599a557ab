//! The upload API's routes on the shared router ([`api::router`]), and the reporter's words for
//! a rejected file.

use api::router::{Path, Router};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /api/reporter/uploads`: a presigned POST and a pending record.
    Authorise,
    /// `GET /api/reporter/uploads/{id}`: where the reporter's upload stands.
    Status,
}

/// Every path of the upload API once (the template's routes of this function).
pub const ROUTES: Router<Route> = Router {
    paths: &[
        Path {
            pattern: "/api/reporter/uploads",
            methods: &[("POST", Route::Authorise)],
        },
        Path {
            pattern: "/api/reporter/uploads/{id}",
            methods: &[("GET", Route::Status)],
        },
    ],
};

/// What the reporter reads for a rejection `reason` (the code processing recorded).
pub fn rejection_message(reason: &str) -> &'static str {
    match reason {
        "too_large" => "文件过大",
        "empty" => "文件为空",
        "download_failed" => "照片下载失败",
        _ => "文件类型不符合要求（仅支持照片、视频和PDF）",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_routes_and_the_answers_the_table_implies() {
        assert_eq!(
            ROUTES
                .route("POST", "/api/reporter/uploads")
                .expect("post")
                .route,
            Route::Authorise
        );
        let m = ROUTES
            .route("GET", "/api/reporter/uploads/a1")
            .expect("get");
        assert_eq!((m.route, m.param("id")), (Route::Status, "a1"));
        let e = ROUTES
            .route("GET", "/api/reporter/uploads")
            .expect_err("405");
        assert_eq!((e.status, e.code), (405, "method_not_allowed"));
        let e = ROUTES
            .route("POST", "/api/reporter/clues")
            .expect_err("404");
        assert_eq!((e.status, e.code), (404, "no_route"));
    }
}
