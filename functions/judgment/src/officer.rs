//! The calling officer, read from the Cognito ID token's claims that the HTTP API's JWT
//! authorizer placed on the request.

use std::collections::{BTreeSet, HashMap};

use api::ApiError;
use domain::{BureauId, Officer, OfficerId, Role};
use serde::Serialize;

/// The caller as the claims describe them: the domain's [`Officer`] and their user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub officer: Officer,
    pub username: String,
}

/// `GET /api/officer/me`.
#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub sub: &'a str,
    pub username: &'a str,
    pub bureau_id: &'a str,
    pub roles: Vec<Role>,
    pub unread_reminders: u64,
}

impl Caller {
    /// The officer of `claims`.
    ///
    /// # Errors
    /// 401 `unauthenticated` without a usable `sub` (the route is not behind the authorizer);
    /// 403 `no_bureau` when the account names no valid bureau (`custom:bureau_id`). Unknown
    /// role names are ignored: an account gains nothing from them.
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Self, ApiError> {
        let unauthenticated = || ApiError::new(401, "unauthenticated", "请先登录办理系统");
        let sub = claims.get("sub").ok_or_else(unauthenticated)?;
        let id = OfficerId::parse(sub).map_err(|_| unauthenticated())?;
        let bureau = claims
            .get("custom:bureau_id")
            .and_then(|b| BureauId::parse(b).ok())
            .ok_or_else(|| ApiError::forbidden("no_bureau", "账号未关联所属机关，请联系管理员"))?;
        let roles: BTreeSet<Role> = claims
            .get("custom:roles")
            .map(|r| {
                r.split(',')
                    .filter_map(|s| serde_json::from_value(s.trim().into()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let username = claims
            .get("cognito:username")
            .or_else(|| claims.get("username"))
            .cloned()
            .unwrap_or_else(|| sub.clone());
        Ok(Self {
            officer: Officer { id, bureau, roles },
            username,
        })
    }

    /// The `/me` answer.
    pub fn me(&self, unread_reminders: u64) -> Me<'_> {
        Me {
            sub: self.officer.id.as_str(),
            username: &self.username,
            bureau_id: self.officer.bureau.as_str(),
            roles: self.officer.roles.iter().copied().collect(),
            unread_reminders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_officer_is_read_from_cognito_id_token_claims() {
        let c = claims(&[
            ("sub", "6f1c2d3e-aaaa-bbbb-cccc-0123456789ab"),
            ("cognito:username", "hz-handler"),
            ("custom:bureau_id", "land-330100"),
            ("custom:roles", "handler, leader,wizard"),
        ]);
        let caller = Caller::from_claims(&c).expect("officer");
        assert_eq!(caller.username, "hz-handler");
        assert_eq!(caller.officer.bureau.as_str(), "land-330100");
        assert_eq!(
            caller.officer.roles.into_iter().collect::<Vec<_>>(),
            [Role::Handler, Role::Leader]
        );
    }

    #[test]
    fn without_a_sub_or_a_bureau_the_caller_is_refused() {
        let e = Caller::from_claims(&HashMap::new()).expect_err("no sub");
        assert_eq!((e.status, e.code), (401, "unauthenticated"));
        let e = Caller::from_claims(&claims(&[("sub", "abc")])).expect_err("no bureau");
        assert_eq!((e.status, e.code), (403, "no_bureau"));
        let e = Caller::from_claims(&claims(&[("sub", "abc"), ("custom:bureau_id", "")]))
            .expect_err("empty bureau");
        assert_eq!((e.status, e.code), (403, "no_bureau"));
    }
}
