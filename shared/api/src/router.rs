//! One small router for every API function: a table of path patterns, each written once with the
//! methods it answers, from which a request gets its route and path parameters, or the 404/405
//! that the table implies.

use crate::ApiError;

/// One path of the table: a pattern (`/api/officer/clues/{id}`) and, per method, the route.
#[derive(Debug, Clone, Copy)]
pub struct Path<R: 'static> {
    pub pattern: &'static str,
    pub methods: &'static [(&'static str, R)],
}

/// The routes of a function: every path once.
#[derive(Debug, Clone, Copy)]
pub struct Router<R: 'static> {
    pub paths: &'static [Path<R>],
}

/// What a request matched: the route and the `{name}` segments of its pattern, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<R> {
    pub route: R,
    pub params: Vec<(&'static str, String)>,
}

impl<R> Matched<R> {
    /// The value of the path parameter `name` (empty when the pattern has none of that name).
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn match_pattern(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    params.push((name, g.to_owned()));
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

impl<R: Copy> Router<R> {
    /// The route of `method` on `path`.
    ///
    /// # Errors
    /// 404 `no_route` when no pattern matches the path; 405 `method_not_allowed` when one does
    /// but not with this method.
    pub fn route(&self, method: &str, path: &str) -> Result<Matched<R>, ApiError> {
        for p in self.paths {
            if let Some(params) = match_pattern(p.pattern, path) {
                return match p.methods.iter().find(|(m, _)| *m == method) {
                    Some((_, route)) => Ok(Matched {
                        route: *route,
                        params,
                    }),
                    None => Err(ApiError::new(
                        405,
                        "method_not_allowed",
                        format!("不支持 {method} 方法"),
                    )),
                };
            }
        }
        Err(ApiError::not_found("no_route"))
    }

    /// Every `(method, pattern, route)` of the table (for generated tests and documents).
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &'static str, R)> + '_ {
        self.paths
            .iter()
            .flat_map(|p| p.methods.iter().map(move |(m, r)| (*m, p.pattern, *r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum R {
        List,
        One,
        Act,
    }

    const ROUTER: Router<R> = Router {
        paths: &[
            Path {
                pattern: "/x/items",
                methods: &[("GET", R::List)],
            },
            Path {
                pattern: "/x/items/{id}",
                methods: &[("GET", R::One)],
            },
            Path {
                pattern: "/x/items/{id}/actions/{action}",
                methods: &[("POST", R::Act)],
            },
        ],
    };

    #[test]
    fn a_path_gets_its_route_and_parameters() {
        let m = ROUTER
            .route("POST", "/x/items/c-1/actions/judge")
            .expect("route");
        assert_eq!(m.route, R::Act);
        assert_eq!((m.param("id"), m.param("action")), ("c-1", "judge"));
        assert_eq!(
            ROUTER.route("GET", "/x/items").expect("list").route,
            R::List
        );
        assert_eq!(
            ROUTER.route("GET", "/x/items/7").expect("one").param("id"),
            "7"
        );
    }

    #[test]
    fn unknown_paths_are_404_and_other_methods_405() {
        for path in [
            "/x",
            "/x/items/",
            "/x/items/1/2",
            "/x/items//actions/a",
            "/y/items",
        ] {
            let e = ROUTER.route("GET", path).expect_err(path);
            assert_eq!((e.status, e.code), (404, "no_route"), "{path}");
        }
        let e = ROUTER.route("DELETE", "/x/items/1").expect_err("405");
        assert_eq!((e.status, e.code), (405, "method_not_allowed"));
        assert_eq!(ROUTER.all().count(), 3);
    }
}
