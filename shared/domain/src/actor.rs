//! Who acts on a clue: the reporter, an officer of a bureau with roles, or the platform itself.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::bureau::BureauId;
use crate::ids::{OfficerId, ReporterKey};

/// An officer's roles (承办人的角色).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Handles clues: judges, verifies, messages.
    Handler,
    /// Leads the bureau: everything a handler does, plus assignment after a recusal.
    Leader,
    /// Supervises lower bureaus: 督办, statistics, bulletins.
    Supervisor,
    /// Administers the bureau's configuration and officers.
    Admin,
}

/// A staff member of a bureau, as the identity provider vouches for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    pub id: OfficerId,
    pub bureau: BureauId,
    pub roles: BTreeSet<Role>,
}

impl Officer {
    /// Whether the officer holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the officer may handle clues (handler or leader).
    pub fn handles(&self) -> bool {
        self.has(Role::Handler) || self.has(Role::Leader)
    }
}

/// Who did something on a clue's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// The reporter, known only by their keyed hash.
    Reporter { reporter: ReporterKey },
    /// An officer acting for their bureau.
    Officer { officer: Officer },
    /// The platform (notice delivery, sweeps).
    System,
}

impl Actor {
    /// The officer, if an officer acts.
    pub fn officer(&self) -> Option<&Officer> {
        match self {
            Self::Officer { officer } => Some(officer),
            _ => None,
        }
    }
}
