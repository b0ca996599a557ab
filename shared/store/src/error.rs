//! The store's one error type.

use domain::DomainError;
use domain::timeline::TimelineError;

/// Why a store operation did not happen. When an error is returned from a write, nothing of
/// that write is stored (the transaction is all or nothing).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item (a clue, a vault record, an officer…) does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Another command changed the clue (or one of the clues it touches) first: reload and
    /// decide again. Of two concurrent commands on one clue, exactly one gets this.
    #[error("the clue was changed concurrently")]
    Conflict,
    /// The idempotency key was already used with a different payload.
    #[error("idempotency key reused with a different payload")]
    IdempotencyMismatch,
    /// The domain refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The timeline read back from the table does not verify: it was tampered with.
    #[error("the timeline of clue {clue} does not verify")]
    Tampered {
        clue: String,
        #[source]
        source: TimelineError,
    },
    /// The write would exceed one transaction (100 items, 4 MB): e.g. a merge group past
    /// [`crate::MAX_MERGE_MEMBERS`].
    #[error("the change needs {items} items, more than one transaction holds")]
    TooLarge { items: usize },
    /// A merge group already holds [`crate::MAX_MERGE_MEMBERS`] clues.
    #[error("the merge group of this primary is full ({0} members)")]
    MergeGroupFull(usize),
    /// A stored item could not be read back into the domain (corrupt or foreign data).
    #[error("stored item {key} is malformed: {reason}")]
    Malformed { key: String, reason: String },
    /// Encryption or decryption of the identity vault failed.
    #[error("identity vault: {0}")]
    Vault(&'static str),
    /// An invalid argument (e.g. an idempotency key of the wrong shape).
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// This store was built without what the operation needs (a function's configuration).
    #[error("the store has no {0}")]
    Unconfigured(&'static str),
    /// DynamoDB or KMS failed.
    #[error("aws call {op} failed")]
    Sdk {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    pub(crate) fn sdk<E>(op: &'static str, e: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self::Sdk {
            op,
            source: Box::new(e),
        }
    }

    pub(crate) fn malformed(key: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            key: key.into(),
            reason: reason.to_string(),
        }
    }

    /// Whether trying the same thing again may succeed: a conflict (decide again on the new
    /// state) or a failed AWS call. A queue handler retries these and drops the others (a
    /// malformed message or a refused command is not retried forever).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Conflict | Self::Sdk { .. } => true,
            Self::NotFound(_)
            | Self::IdempotencyMismatch
            | Self::Domain(_)
            | Self::Tampered { .. }
            | Self::TooLarge { .. }
            | Self::MergeGroupFull(_)
            | Self::Malformed { .. }
            | Self::Vault(_)
            | Self::Invalid(_)
            | Self::Unconfigured(_) => false,
        }
    }

    /// A stable, machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Conflict => "conflict",
            Self::IdempotencyMismatch => "idempotency_mismatch",
            Self::Domain(e) => e.code(),
            Self::Tampered { .. } => "tampered",
            Self::TooLarge { .. } => "too_large",
            Self::MergeGroupFull(_) => "merge_group_full",
            Self::Malformed { .. } => "malformed",
            Self::Vault(_) => "vault",
            Self::Invalid(_) => "invalid",
            Self::Unconfigured(_) => "unconfigured",
            Self::Sdk { .. } => "unavailable",
        }
    }
}
