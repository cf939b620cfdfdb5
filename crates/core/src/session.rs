//! The session API: what a mount asks of the server, inode by inode.
//!
//! One trait, [`SessionApi`], sits below both sides: the HTTP client implements it by
//! sending each [`Request`] as `POST /v1/sessions/{id}/{name}` with the request as its JSON
//! body, and the server's session service implements it by running the request under the
//! session's rules. Every operation is declared once, in the list below, with its request and
//! reply types; the enums, their JSON forms and the typed calls on `dyn SessionApi` all come
//! from that list, so adding an operation touches the list, the service and nothing else.

use crate::api::*;
use crate::{Error, Result};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A mount session, as the mount sees it: a server over HTTP, or the service in-process.
#[async_trait::async_trait]
pub trait SessionApi: Send + Sync + 'static {
    /// What the server said when the session opened: its root, lease and flags.
    fn info(&self) -> &SessionInfo;
    /// Runs one inode operation.
    async fn call(&self, request: Request) -> Result<Reply>;
    /// Extends the session's lease: its record locks count while it runs.
    async fn renew(&self) -> Result<()>;
    async fn close(&self) -> Result<()>;
    /// Stores one block under its hex BLAKE3 hash.
    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()>;
    async fn get_block(&self, hash: &str) -> Result<Bytes>;
    /// Pieces `first..last` of a block with the values of all its pieces, unchecked (see
    /// [`crate::pieces::check_reply`]).
    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes>;
}

/// One operation as the OpenAPI document describes it.
pub struct Operation {
    /// The last segment of its path, `/v1/sessions/{id}/{name}`.
    pub name: &'static str,
    pub summary: &'static str,
}

macro_rules! operations {
    ($( #[doc = $doc:literal] $name:ident: $Variant:ident($Req:tt) -> $Reply:tt; )*) => {
        /// One inode operation of a mount session, with what it names.
        #[derive(Debug, Clone)]
        pub enum Request { $( #[doc = $doc] $Variant($Req), )* }

        /// What an operation answers.
        #[derive(Debug, Clone)]
        pub enum Reply { $( $Variant($Reply), )* }

        /// Every operation, in the order they are declared.
        pub const OPERATIONS: &[Operation] = &[ $( Operation { name: stringify!($name), summary: $doc.trim_ascii() }, )* ];

        impl Request {
            /// The operation's name: the last segment of its path.
            pub fn name(&self) -> &'static str {
                match self { $( Request::$Variant(_) => stringify!($name), )* }
            }

            /// The JSON body it travels as.
            pub fn to_json(&self) -> Vec<u8> {
                match self { $( Request::$Variant(r) => to_json(r), )* }
            }

            /// The JSON value it travels as inside a [`Batch`].
            pub fn to_value(&self) -> serde_json::Value {
                match self { $( Request::$Variant(r) => to_value(r), )* }
            }

            /// The request named `name` whose JSON value is `value` (inside a [`Batch`]).
            pub fn from_value(name: &str, value: serde_json::Value) -> Result<Request> {
                match name {
                    $( stringify!($name) => serde_json::from_value(value).map(Request::$Variant).map_err(|e| Error::invalid("ops", e.to_string())), )*
                    _ => Err(Error::invalid("ops", format!("no session operation {name:?}"))),
                }
            }

            /// The request named `name` whose JSON body is `body`.
            pub fn from_json(name: &str, body: &[u8]) -> Result<Request> {
                match name {
                    $( stringify!($name) => from_json(body).map(Request::$Variant), )*
                    _ => Err(Error::not_found(format!("no session operation {name:?}"))),
                }
            }

            /// This request's reply, from the JSON body it travels as.
            pub fn reply_from_json(&self, body: &[u8]) -> Result<Reply> {
                match self { $( Request::$Variant(_) => from_json(body).map(Reply::$Variant), )* }
            }
        }

        impl Reply {
            /// The JSON body it travels as; empty when there is nothing to say.
            pub fn to_json(&self) -> Vec<u8> {
                match self { $( Reply::$Variant(r) => to_json(r), )* }
            }
        }

        /// Typed calls: `session.lookup(NodeName { .. })` answers a [`Node`].
        impl dyn SessionApi {
            $(
                #[doc = $doc]
                pub async fn $name(&self, request: $Req) -> Result<$Reply> {
                    match self.call(Request::$Variant(request)).await? {
                        Reply::$Variant(reply) => Ok(reply),
                        other => Err(Error::internal(format!(
                            "{} answered with the reply of another operation: {other:?}",
                            stringify!($name)
                        ))),
                    }
                }
            )*
        }

        /// The schemas of every request and reply, and for each operation the names of
        /// its request's and its reply's (`None` for an empty body).
        #[cfg(feature = "openapi")]
        pub fn schemas() -> (Vec<Schema>, Vec<(Option<String>, Option<String>)>) {
            use utoipa::{PartialSchema, ToSchema};
            let mut all = Vec::new();
            let mut named = Vec::new();
            $(
                named.push((body_schema::<$Req>(), body_schema::<$Reply>()));
                all.push((<$Req>::name().into_owned(), <$Req>::schema()));
                <$Req>::schemas(&mut all);
                all.push((<$Reply>::name().into_owned(), <$Reply>::schema()));
                <$Reply>::schemas(&mut all);
            )*
            all.retain(|(name, _)| name != "TupleUnit");
            (all, named)
        }
    };
}

operations! {
    /// Inode operation `lookup`: the entry `name` of a directory.
    lookup: Lookup(NodeName) -> Node;
    /// Inode operation `getattr`.
    getattr: GetAttr(NodeOnly) -> Stat;
    /// Inode operation `readdir`: one page of a directory, with each entry's attributes.
    readdir: ReadDir(ReadDir) -> DirPage;
    /// Inode operation `create` (a file, directory, symlink or special file).
    create: Create(CreateNode) -> Node;
    /// Inode operation `link`.
    link: Link(LinkNode) -> Node;
    /// Inode operation `unlink`.
    unlink: Unlink(RemoveName) -> ();
    /// Inode operation `rmdir`.
    rmdir: Rmdir(RemoveName) -> ();
    /// Inode operation `rename`.
    rename: Rename(RenameNode) -> ();
    /// Inode operation `setattr`.
    setattr: SetAttr(SetAttrNode) -> Stat;
    /// A file's attributes and chunk list.
    content: Content(NodeOnly) -> Content;
    /// Changes a file's content (blocks stored first) and size, in one transaction.
    write: Write(WriteContent) -> Stat;
    /// Inode operation `getxattr`.
    getxattr: GetXattr(Xattr) -> XattrValue;
    /// Inode operation `setxattr`.
    setxattr: SetXattr(Xattr) -> ();
    /// Inode operation `listxattr`.
    listxattr: ListXattr(NodeOnly) -> XattrNames;
    /// Inode operation `removexattr`.
    removexattr: RemoveXattr(Xattr) -> ();
    /// Makes everything committed durable (`fsync` of a directory on a mount).
    sync: Sync(()) -> ();
    /// The volume's usage; a subpath session sees none.
    statfs: StatFs(()) -> FsStats;
    /// The first lock of another owner in the way of the one described, if any.
    getlk: GetLk(LockRequest) -> LockTest;
    /// Takes or releases a byte-range lock at once; `locked` if another owner holds one in the way.
    setlk: SetLk(LockRequest) -> ();
    /// Asks for exclusive ownership of the session's tree and inode numbers to create with.
    own: Own(()) -> Grant;
    /// Gives ownership back (everything made while owning was shipped first).
    disown: Disown(()) -> ();
    /// Waits until the server asks the session's ownership back, or `wait_ms` passes.
    recall: AwaitRecall(AwaitRecall) -> Ownership;
    /// Applies changes made while owning the tree, in order, in one transaction: all or none.
    apply: Apply(Batch) -> ();
}

/// The operations a [`Batch`] may carry: changes of the tree.
pub const BATCHED: &[&str] = &[
    "create",
    "link",
    "unlink",
    "rmdir",
    "rename",
    "setattr",
    "write",
    "setxattr",
    "removexattr",
];

impl Batch {
    /// The requests, in order, as a batch carries them.
    pub fn of(seq: u64, requests: &[Request], durable: bool) -> Batch {
        let ops = requests
            .iter()
            .map(|r| BatchOp {
                op: r.name().to_owned(),
                args: r.to_value(),
            })
            .collect();
        Batch { seq, ops, durable }
    }

    /// The requests a batch carries; only changes ([`BATCHED`]) may travel in one.
    pub fn requests(self) -> Result<Vec<Request>> {
        self.ops
            .into_iter()
            .map(|op| {
                if !BATCHED.contains(&op.op.as_str()) {
                    return Err(Error::invalid("ops", format!("{:?} cannot travel in a batch", op.op)));
                }
                Request::from_value(&op.op, op.args)
            })
            .collect()
    }
}

#[cfg(feature = "openapi")]
type Schema = (String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>);

/// The schema name of a body, `None` for an empty one.
#[cfg(feature = "openapi")]
fn body_schema<T: utoipa::ToSchema>() -> Option<String> {
    Some(T::name().into_owned()).filter(|name| name != "TupleUnit")
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    match serde_json::to_value(value) {
        Ok(value) => value,
        Err(e) => unreachable!("an API type that does not serialise: {e}"),
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    match serde_json::to_vec(value) {
        Ok(json) if json == b"null" => Vec::new(),
        Ok(json) => json,
        // The API's types are plain data: a failure here is a bug, not an input.
        Err(e) => unreachable!("an API type that does not serialise: {e}"),
    }
}

/// A body as `T`; an operation that takes nothing takes an empty body, `null` or `{}`.
fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let empty = body.is_empty() || body.trim_ascii() == b"{}";
    match serde_json::from_slice(body) {
        Err(_) if empty => serde_json::from_slice(b"null").map_err(|e| Error::invalid("body", e.to_string())),
        parsed => parsed.map_err(|e| Error::invalid("body", e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn every_request_travels_and_comes_back_as_itself() {
        let node = NodeRef { ino: 7, cap: 9 };
        let request = Request::Unlink(RemoveName {
            parent: node,
            name: "a b".into(),
            at: Some(5),
        });
        let back = Request::from_json(request.name(), &request.to_json()).unwrap();
        assert!(matches!(back, Request::Unlink(r) if r.name == "a b" && r.parent == node && r.at == Some(5)));
        assert!(matches!(Request::from_json("statfs", b" {} "), Ok(Request::StatFs(()))));
        let sync = Request::from_json("sync", b"").unwrap();
        assert!(sync.to_json().is_empty());
        assert!(matches!(sync.reply_from_json(b"").unwrap(), Reply::Sync(())));
    }

    #[test]
    fn unknown_operations_and_bad_bodies_are_refused_by_name() {
        let e = Request::from_json("chown", b"{}").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let e = Request::from_json("lookup", b"{\"parent\": 1}").unwrap_err();
        assert_eq!((e.kind, e.field.as_deref()), (ErrorKind::InvalidInput, Some("body")));
    }

    #[test]
    fn a_batch_carries_changes_in_order_and_nothing_else() {
        let node = NodeRef { ino: 7, cap: 9 };
        let unlink = Request::Unlink(RemoveName::new(node, "a"));
        let rmdir = Request::Rmdir(RemoveName::new(node, "b"));
        let batch = Batch::of(1, &[unlink, rmdir], true);
        let json = serde_json::to_vec(&batch).unwrap();
        let back: Batch = serde_json::from_slice(&json).unwrap();
        assert!(back.durable);
        let names: Vec<_> = back.requests().unwrap().iter().map(Request::name).collect();
        assert_eq!(names, ["unlink", "rmdir"]);
        let sneaky = Batch::of(2, &[Request::Lookup(NodeName::new(node, "a"))], false);
        let e = sneaky.requests().unwrap_err();
        assert_eq!((e.kind, e.field.as_deref()), (ErrorKind::InvalidInput, Some("ops")));
        let nested = Batch::of(3, &[Request::Apply(Batch::default())], false);
        assert!(nested.requests().is_err(), "no batch inside a batch");
    }

    #[test]
    fn operations_are_listed_once_each() {
        let mut names: Vec<_> = OPERATIONS.iter().map(|o| o.name).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        assert!(OPERATIONS.iter().all(|o| !o.summary.is_empty()));
    }
}
