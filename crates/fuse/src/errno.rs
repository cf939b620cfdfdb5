//! The one place where errors become errnos. Exhaustive on purpose: a new error kind must
//! be given an errno here rather than silently becoming EIO.

use fuser::Errno;
use strata_core::{Error, ErrorKind};

pub fn errno(e: &Error) -> Errno {
    let code = match e.kind {
        ErrorKind::InvalidInput => libc::EINVAL,
        ErrorKind::NameTooLong => libc::ENAMETOOLONG,
        ErrorKind::Unauthorized => libc::EACCES,
        ErrorKind::PermissionDenied => libc::EPERM,
        ErrorKind::ReadOnly => libc::EROFS,
        ErrorKind::NotFound | ErrorKind::VolumeGone => libc::ENOENT,
        ErrorKind::NoSuchAttribute => libc::ENODATA,
        ErrorKind::AlreadyExists => libc::EEXIST,
        ErrorKind::NotADirectory => libc::ENOTDIR,
        ErrorKind::IsADirectory => libc::EISDIR,
        ErrorKind::DirectoryNotEmpty => libc::ENOTEMPTY,
        ErrorKind::LimitExceeded => libc::ENOSPC,
        ErrorKind::QuotaExceeded => libc::EDQUOT,
        ErrorKind::TooLarge => libc::EFBIG,
        ErrorKind::Locked => libc::EAGAIN,
        ErrorKind::Conflict | ErrorKind::Stale | ErrorKind::Unavailable | ErrorKind::Internal => {
            tracing::warn!("I/O error: {e}");
            libc::EIO
        }
    };
    Errno::from_i32(code)
}

/// The errno of an operation on an inode the kernel found by its name a moment ago: when the
/// inode is gone (another mount removed it), ESTALE, which makes the kernel look the name up
/// again and retry (an `open(O_CREAT)` then creates it), where ENOENT would fail the call.
pub fn errno_of_found(e: &Error) -> Errno {
    match e.kind {
        ErrorKind::NotFound => Errno::ESTALE,
        _ => errno(e),
    }
}
