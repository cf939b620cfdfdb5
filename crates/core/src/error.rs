//! The small set of error kinds every layer speaks.
//!
//! Each boundary maps a kind exactly once: to an HTTP status in the server, to an errno in
//! the mount, to a message and exit code in the CLI.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidInput,
    /// A name longer than 255 bytes.
    NameTooLong,
    Unauthorized,
    PermissionDenied,
    ReadOnly,
    NotFound,
    /// The volume was deleted while in use (by a mount, a session, a sandbox).
    VolumeGone,
    /// No extended attribute of that name.
    NoSuchAttribute,
    AlreadyExists,
    NotADirectory,
    IsADirectory,
    DirectoryNotEmpty,
    LimitExceeded,
    /// A volume's quota of bytes or files would be passed.
    QuotaExceeded,
    /// A request or an answer larger than the server takes or sends.
    TooLarge,
    Conflict,
    /// The file changed since the writer read it: read it again and redo the change.
    Stale,
    /// A lock held by someone else is in the way.
    Locked,
    Unavailable,
    Internal,
}

/// An error with its kind, a message for people, and the input field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            field: None,
        }
    }

    /// An invalid value of the named input field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::InvalidInput,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// The same error, naming the input field it concerns.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error about the volume a request named, unless it is about the time of a
    /// moment (`VOLUME@TIME`) that history does not hold.
    pub fn about_volume(self) -> Self {
        match self.field.as_deref() {
            Some("time") => self,
            _ => self.with_field("volume"),
        }
    }

    /// The same error with `context: ` before its message.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}
