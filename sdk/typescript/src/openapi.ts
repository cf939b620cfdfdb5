// The strata API's types, made by scripts/openapi.mjs from GET /v1/openapi.json: do not edit.

export interface paths {
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["admin_metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/diff": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What differs between two volumes or snapshots */
        get: operations["snapshots_diff"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/fsck": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Check (and repair) the metadata */
        post: operations["admin_fsck"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/gc": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Collect garbage */
        post: operations["admin_gc"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness, the server's version and clock */
        get: operations["admin_health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An organization's keys */
        get: operations["keys_list_keys"];
        put?: never;
        /** Make an API key */
        post: operations["keys_create_key"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{key}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a key */
        delete: operations["keys_revoke_key"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["admin_document"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Organizations */
        get: operations["keys_list_orgs"];
        put?: never;
        /** Create an organization */
        post: operations["keys_create_org"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs/{org}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An organization: the bytes its volumes hold and its quota */
        get: operations["keys_get_org"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs/{org}/encryption": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Encrypt an organization's blocks from now on (admin keys only) */
        post: operations["keys_encrypt_org"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs/{org}/quota": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set an organization's quota of bytes (admin keys only) */
        post: operations["keys_set_org_quota"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs/{org}/reencrypt": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rewrite an organization's blocks with its current data key (admin keys only) */
        post: operations["keys_reencrypt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/orgs/{org}/rotate-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give an organization a new data key (admin keys only) */
        post: operations["keys_rotate_key"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sandboxes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The organization's sandboxes */
        get: operations["sandboxes_list"];
        put?: never;
        /** Start a sandbox */
        post: operations["sandboxes_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sandboxes/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One sandbox */
        get: operations["sandboxes_get"];
        put?: never;
        post?: never;
        /** Stop and delete a sandbox */
        delete: operations["sandboxes_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sandboxes/{id}/exec": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run a command in a sandbox */
        post: operations["sandboxes_exec"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sandboxes/{id}/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a file of a sandbox */
        get: operations["sandboxes_download"];
        /** Write a file into a sandbox */
        put: operations["sandboxes_upload"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the organization's live mount sessions */
        get: operations["sessions_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Close a mount session */
        delete: operations["sessions_close"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/apply": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Applies changes made while owning the tree, in order, in one transaction: all or none. */
        post: operations["sessions_apply"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/blocks/{hash}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a block */
        get: operations["sessions_get_block"];
        /** Store a block */
        put: operations["sessions_put_block"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/blocks/{hash}/pieces": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read pieces of a block */
        get: operations["sessions_get_pieces"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A file's attributes and chunk list. */
        post: operations["sessions_content"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/create": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `create` (a file, directory, symlink or special file). */
        post: operations["sessions_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/disown": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Gives ownership back (everything made while owning was shipped first). */
        post: operations["sessions_disown"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/getattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `getattr`. */
        post: operations["sessions_getattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/getlk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The first lock of another owner in the way of the one described, if any. */
        post: operations["sessions_getlk"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/getxattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `getxattr`. */
        post: operations["sessions_getxattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `link`. */
        post: operations["sessions_link"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/listxattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `listxattr`. */
        post: operations["sessions_listxattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/lookup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `lookup`: the entry `name` of a directory. */
        post: operations["sessions_lookup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/own": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Asks for exclusive ownership of the session's tree and inode numbers to create with. */
        post: operations["sessions_own"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/readdir": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `readdir`: one page of a directory, with each entry's attributes. */
        post: operations["sessions_readdir"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/recall": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Waits until the server asks the session's ownership back, or `wait_ms` passes. */
        post: operations["sessions_recall"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/removexattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `removexattr`. */
        post: operations["sessions_removexattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/rename": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `rename`. */
        post: operations["sessions_rename"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/renew": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Renew a session's lease */
        post: operations["sessions_renew"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/rmdir": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `rmdir`. */
        post: operations["sessions_rmdir"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/setattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `setattr`. */
        post: operations["sessions_setattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/setlk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Takes or releases a byte-range lock at once; `locked` if another owner holds one in the way. */
        post: operations["sessions_setlk"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/setxattr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `setxattr`. */
        post: operations["sessions_setxattr"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/statfs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The volume's usage; a subpath session sees none. */
        post: operations["sessions_statfs"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Makes everything committed durable (`fsync` of a directory on a mount). */
        post: operations["sessions_sync"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/unlink": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Inode operation `unlink`. */
        post: operations["sessions_unlink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sessions/{id}/write": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Changes a file's content (blocks stored first) and size, in one transaction. */
        post: operations["sessions_write"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a scoped token for one volume */
        post: operations["keys_create_token"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The organization's volumes */
        get: operations["volumes_list"];
        put?: never;
        /** Create a volume */
        post: operations["volumes_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One volume */
        get: operations["volumes_get"];
        put?: never;
        post?: never;
        /** Delete a volume */
        delete: operations["volumes_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/compression": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set how a volume's new blocks are compressed */
        post: operations["volumes_set_compression"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fork": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Fork a volume */
        post: operations["snapshots_fork"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/chmod": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change permission bits */
        post: operations["files_chmod"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A file's bytes */
        get: operations["files_get"];
        /** Write a whole file */
        put: operations["files_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/copy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Copy a file or directory */
        post: operations["files_copy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/list": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The entries of a directory */
        get: operations["files_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/mkdir": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a directory */
        post: operations["files_mkdir"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/remove": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Remove a file or directory */
        post: operations["files_remove"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/rename": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rename a file or directory */
        post: operations["files_rename"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/stat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A file's attributes */
        get: operations["files_stat"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/fs/symlink": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a symbolic link */
        post: operations["files_symlink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the windows of changes a volume's history keeps, newest first */
        get: operations["history_history"];
        put?: never;
        /** Set how long a volume keeps its past */
        post: operations["history_set_history"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/merge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Merge a fork's changes since it was made into its source (or another volume) */
        post: operations["history_merge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/promote": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make a fork its source volume: the source takes the fork's tree and keeps its own as a snapshot */
        post: operations["history_promote"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/quota": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set a volume's quota of bytes and files */
        post: operations["volumes_set_quota"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/rename": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rename a volume (and its snapshots) */
        post: operations["volumes_rename"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Restore a volume to a moment of its history */
        post: operations["history_restore_to"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Open a mount session */
        post: operations["sessions_open"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/snapshots": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A volume's snapshots */
        get: operations["snapshots_list_snapshots"];
        put?: never;
        /** Take a snapshot */
        post: operations["snapshots_create_snapshot"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/snapshots/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete a snapshot */
        delete: operations["snapshots_delete_snapshot"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/snapshots/{name}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Restore a volume to a snapshot */
        post: operations["snapshots_restore"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/volumes/{volume}/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The blocks a volume names and what the store keeps for them */
        get: operations["volumes_usage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/whoami": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's key: its name, organization and role */
        get: operations["admin_whoami"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description Attribute changes; `None` leaves a value as it is. A new `size` truncates or extends. */
        AttrChanges: {
            /**
             * Format: int64
             * @description Nanoseconds since the Unix epoch.
             */
            atime?: number | null;
            /** Format: int32 */
            gid?: number | null;
            /** Format: int32 */
            mode?: number | null;
            /** Format: int64 */
            mtime?: number | null;
            /** Format: int64 */
            size?: number | null;
            /** Format: int32 */
            uid?: number | null;
        };
        /** @description How long to wait for a recall of the session's ownership. */
        AwaitRecall: {
            /**
             * Format: int64
             * @description At most this long (ms), bounded by the server.
             */
            wait_ms: number;
        };
        /**
         * @description Changes a mount made while it owned its tree, in the order it made them: applied in one
         *     transaction, each checked as the single call would be, all or none.
         */
        Batch: {
            /** @description Durable when the call returns, as an fsync. */
            durable?: boolean;
            ops: components["schemas"]["BatchOp"][];
            /**
             * Format: int64
             * @description Numbers the session's batches from 1: a repeat of one already applied (its answer was
             *     lost) is answered without applying it again.
             */
            seq: number;
        };
        /** @description One change of a [`Batch`]: a session operation's name and its request body. */
        BatchOp: {
            args: Record<string, never>;
            op: string;
        };
        /** @enum {string} */
        Change: "added" | "removed" | "changed";
        Chmod: {
            /** Format: int32 */
            mode: number;
            path: string;
        };
        /** @description One chunk of a file: a block by its hex BLAKE3 `hash`, or base64 `data` held inline. */
        ChunkRef: {
            data?: string | null;
            hash?: string | null;
            /** Format: int64 */
            idx: number;
            /** Format: int64 */
            len: number;
        };
        /**
         * @description How a volume's new blocks are compressed: `off`, `zstd` (level 3) or `zstd:LEVEL` (1 to
         *     19); `null` (or absent): as the server says.
         */
        CompressionSetting: {
            compression?: string | null;
        };
        Content: {
            chunks: components["schemas"]["ChunkRef"][];
            stat: components["schemas"]["Stat"];
        };
        Copy: {
            from: string;
            to: string;
        };
        CreateKey: {
            name: string;
            /** @description The organization of the key; the caller's when absent (others: admin keys only). */
            org?: string | null;
            /** @description `admin`, `org-admin` or `member` (the default). */
            role?: string | null;
            /** @description How long the key lives (`12h`, `30d`); forever when absent. */
            ttl?: string | null;
        };
        CreateNode: components["schemas"]["NewInode"] & {
            /**
             * Format: int64
             * @description When the mount made it (ns), for a create shipped later: its times, and its
             *     directory's. Taken if within the last hour, else now.
             */
            at?: number | null;
            ino?: components["schemas"]["NodeRef"] | null;
            name: string;
            parent: components["schemas"]["NodeRef"];
        };
        CreateOrg: {
            name: string;
        };
        CreateSandbox: {
            /**
             * @description The environment of every process inside, beside `HOME` and `PATH`; nothing else of
             *     the server's is there.
             */
            env?: {
                [key: string]: string;
            };
            /** @description Resource limits; each one left out takes its default. */
            limits?: components["schemas"]["SandboxLimitsSpec"];
            network?: components["schemas"]["SandboxNetwork"];
            volumes?: components["schemas"]["SandboxVolumeSpec"][];
        };
        CreateSnapshot: {
            name: string;
        };
        CreateToken: {
            /** @description Unique in the organization; made up when absent. */
            name?: string | null;
            read_only?: boolean;
            /** @description The folder of the volume the token sees as its root, relative (`users/alice`). */
            subpath?: string;
            ttl?: string | null;
            /** @description The one volume the token reaches. */
            volume: string;
        };
        CreateVolume: {
            /** @description Return the existing volume of that name instead of failing. */
            exist_ok?: boolean;
            name: string;
        };
        DiffEntry: {
            change: components["schemas"]["Change"];
            path: string;
        };
        DirEntry: {
            name: string;
            stat: components["schemas"]["Stat"];
        };
        /** @description A page of a directory listing, sorted by name. */
        DirPage: {
            entries: components["schemas"]["NamedNode"][];
            /** @description Where the next page starts (its `after`); `None` on the last page. */
            next?: string | null;
        };
        /** @description An error with its kind, a message for people, and the input field it concerns. */
        Error: {
            field?: string | null;
            kind: components["schemas"]["ErrorKind"];
            message: string;
        };
        ErrorBody: {
            error: components["schemas"]["Error"];
        };
        /** @enum {string} */
        ErrorKind: "invalid_input" | "name_too_long" | "unauthorized" | "permission_denied" | "read_only" | "not_found" | "volume_gone" | "no_such_attribute" | "already_exists" | "not_a_directory" | "is_a_directory" | "directory_not_empty" | "limit_exceeded" | "quota_exceeded" | "too_large" | "conflict" | "stale" | "locked" | "unavailable" | "internal";
        Exec: {
            /** @description Run as `sh -c COMMAND` inside the sandbox. */
            command: string;
            /**
             * Format: int64
             * @description Seconds before the command is killed (default 60, at most 3600).
             */
            timeout_secs?: number | null;
        };
        ExecResult: {
            /**
             * Format: int32
             * @description The command's exit status; 128 + N when signal N ended it.
             */
            exit_code: number;
            stderr: string;
            stdout: string;
            timed_out: boolean;
            /** @description Output past the limit was dropped. */
            truncated: boolean;
        };
        /** @enum {string} */
        FileKind: "file" | "directory" | "symlink" | "fifo" | "socket" | "char_device" | "block_device";
        Fork: {
            /** @description Name of the new volume. */
            name: string;
        };
        FsckProblem: {
            detail: string;
            /** @description `dangling_chunk`, `missing_inode`, `counters` or `damaged_block`. */
            kind: string;
            volume: string;
        };
        /** @description What `fsck` found (and, with `repair`, mended). */
        FsckReport: {
            /**
             * Format: int64
             * @description Blocks the trees name.
             */
            blocks: number;
            /**
             * Format: int64
             * @description Blocks read back from the store and found whole (with `blocks`).
             */
            blocks_read?: number;
            /**
             * Format: int64
             * @description Layers no volume reaches: garbage collection deletes them.
             */
            collectable_layers: number;
            /**
             * Format: int64
             * @description Inodes reached from the roots.
             */
            inodes: number;
            problems: components["schemas"]["FsckProblem"][];
            /** @description Whether the problems found were mended. */
            repaired: boolean;
            /**
             * Format: int64
             * @description Volumes and snapshots walked.
             */
            volumes: number;
        };
        FsStats: {
            /** Format: int64 */
            files: number;
            /**
             * Format: int64
             * @description The volume's quota, or the room its organization's quota leaves it if less, which a
             *     mount shows as its size (`df`).
             */
            quota_bytes?: number | null;
            /** Format: int64 */
            quota_files?: number | null;
            /** Format: int64 */
            used_bytes: number;
        };
        /** @description What a garbage collection pass reclaimed. */
        GcReport: {
            /** Format: int64 */
            blocks_deleted: number;
            /** Format: int64 */
            bytes_deleted: number;
            /** @description True when nothing was deleted: the counts say what a real pass would delete now. */
            dry_run?: boolean;
            /** Format: int64 */
            layers_deleted: number;
        };
        /**
         * @description Exclusive ownership of a session's tree, and inode numbers to create with: while it
         *     lasts no other session uses the volume, so the mount may answer changes itself and ship
         *     them later, in order, as [`Batch`]es. Empty `inodes`: not granted (another session uses
         *     the volume, or the session's ownership is being recalled).
         */
        Grant: {
            inodes: components["schemas"]["NodeRef"][];
        };
        /**
         * @description `GET /v1/health`: the server is up; its version and clock, for `strata status` and
         *     `strata doctor`.
         */
        Health: {
            status: string;
            /**
             * Format: int64
             * @description The server's clock, nanoseconds since the Unix epoch.
             */
            time_ns: number;
            version: string;
        };
        /** @description How long a volume keeps its past (`24h`, `0` for not at all); none: the server's setting. */
        HistoryKeep: {
            keep?: string | null;
        };
        /**
         * @description A window of changes in a volume's history: `before` names the volume as it was just
         *     before them (`VOLUME@TIME` takes it), `changes` counts files changed, `bytes` bytes written.
         */
        HistoryPoint: {
            /** Format: int64 */
            before: number;
            /** Format: int64 */
            bytes: number;
            /** Format: int64 */
            changes: number;
            /** Format: int64 */
            first_change: number;
            /** Format: int64 */
            last_change: number;
        };
        /** @description A key as listed: never its secret. */
        KeyInfo: {
            /** Format: int64 */
            created_at: number;
            /**
             * Format: int64
             * @description Nanoseconds since the Unix epoch; absent for a key that does not expire.
             */
            expires_at?: number | null;
            /** Format: uuid */
            id: string;
            name: string;
            org: string;
            role: components["schemas"]["Role"];
            scope?: components["schemas"]["TokenScope"] | null;
        };
        LinkNode: {
            name: string;
            node: components["schemas"]["NodeRef"];
            parent: components["schemas"]["NodeRef"];
        };
        /**
         * @description A live mount session, as `GET /v1/sessions` lists it: never its secret; its id and key
         *     only to key admins and to the key that opened it (an id is enough to end a session).
         */
        LiveSession: {
            /**
             * Format: int64
             * @description When its lease ends unless the mount renews it (ns).
             */
            alive_until: number;
            /**
             * Format: int64
             * @description When it was opened, nanoseconds since the Unix epoch.
             */
            created_at: number;
            /** Format: uuid */
            id?: string | null;
            /** @description The name of the key that opened it, if the key still exists and the caller may be told. */
            key?: string | null;
            read_only: boolean;
            /** @description The volume's name now (`VOLUME@SNAPSHOT` for a snapshot); absent once it is deleted. */
            volume?: string | null;
            /** Format: uuid */
            volume_id: string;
        };
        /** @enum {string} */
        LockKind: "read" | "write" | "unlock";
        /** @description A byte range lock, `start..=end` (`end` is `u64::MAX` for "to the end of the file"). */
        LockRange: {
            /** Format: int64 */
            end: number;
            kind: components["schemas"]["LockKind"];
            /**
             * Format: int32
             * @description The process that holds it, as its mount reported.
             */
            pid?: number;
            /** Format: int64 */
            start: number;
        };
        LockRequest: {
            node: components["schemas"]["NodeRef"];
            /**
             * Format: int64
             * @description The lock owner the kernel names within the mount.
             */
            owner: number;
            range: components["schemas"]["LockRange"];
        };
        LockTest: {
            conflict?: components["schemas"]["LockRange"] | null;
        };
        /** @description A path both sides changed since the fork was made, and what each did to it. */
        MergeConflict: {
            fork: components["schemas"]["Change"];
            path: string;
            volume: components["schemas"]["Change"];
        };
        /**
         * @description What a merge did (or, not applied, would do): the fork's changes it takes, as they change
         *     the volume, and the conflicts. Nothing is applied on a dry run, nor when there are
         *     conflicts and no side is preferred.
         */
        MergeReport: {
            applied: boolean;
            changes: components["schemas"]["DiffEntry"][];
            conflicts: components["schemas"]["MergeConflict"][];
        };
        /** @description Merges a fork's changes since it was made into a volume (its source when unset). */
        MergeRequest: {
            /** @description Only report what the merge would do. */
            dry_run?: boolean;
            into?: string | null;
            prefer?: components["schemas"]["Prefer"] | null;
        };
        Mkdir: {
            /** Format: int32 */
            mode?: number | null;
            parents?: boolean;
            path: string;
        };
        NamedNode: {
            name: string;
            node: components["schemas"]["NodeRef"];
            stat: components["schemas"]["Stat"];
            /**
             * @description Whether it has extended attributes (a listing says, so that a mount answers "none"
             *     without asking for each file).
             */
            xattrs?: boolean;
        };
        /** @description What a new inode starts as. */
        NewInode: {
            /** Format: int32 */
            gid?: number;
            kind: components["schemas"]["FileKind"];
            /** Format: int32 */
            mode: number;
            /** Format: int32 */
            rdev?: number;
            /** @description The target, for a symlink. */
            target?: string | null;
            /** Format: int32 */
            uid?: number;
        };
        /** @description A key just made: the only time its secret is shown. */
        NewKey: {
            key: components["schemas"]["KeyInfo"];
            secret: string;
        };
        Node: {
            node: components["schemas"]["NodeRef"];
            parent?: components["schemas"]["Stat"] | null;
            stat: components["schemas"]["Stat"];
        };
        NodeName: {
            name: string;
            parent: components["schemas"]["NodeRef"];
        };
        NodeOnly: {
            node: components["schemas"]["NodeRef"];
        };
        /** @description An inode as a session names it: its number and the capability the server issued for it. */
        NodeRef: {
            /** Format: int64 */
            cap: number;
            /** Format: int64 */
            ino: number;
        };
        OpenSession: {
            read_only?: boolean;
            /** @description The volume folder the mount shows as its root, relative (`users/alice`); empty for all. */
            subpath?: string;
        };
        Org: {
            /** Format: int64 */
            created_at: number;
            /**
             * Format: int32
             * @description When it encrypts its blocks, the number of the data key new ones are encrypted with.
             */
            data_key?: number | null;
            name: string;
            /**
             * Format: int64
             * @description The most bytes its volumes may hold together, if it has a quota.
             */
            quota_bytes?: number | null;
            /**
             * Format: int64
             * @description The bytes its volumes hold (their logical size; snapshots and history not counted).
             */
            used_bytes?: number;
        };
        /** @description An organization's quota: `null` (or absent) means none. */
        OrgQuota: {
            /**
             * Format: int64
             * @description The most bytes its volumes may hold together (a fork counts whole).
             */
            bytes?: number | null;
        };
        /** @description Whether the session still owns its tree, and whether the server asks it back. */
        Ownership: {
            owner: boolean;
            recalled: boolean;
        };
        /**
         * @description Which side's version a merge takes where both the fork and the volume changed a path.
         * @enum {string}
         */
        Prefer: "fork" | "volume";
        /** @description A volume's quota: each bound replaces the one it had; `null` (or absent) means none. */
        Quota: {
            /**
             * Format: int64
             * @description The most bytes its files may hold (their logical size, as `used_bytes` counts).
             */
            bytes?: number | null;
            /**
             * Format: int64
             * @description The most inodes (files, directories, links) it may hold, as `file_count` counts.
             */
            files?: number | null;
        };
        /**
         * @description One page of a directory: up to `limit` entries (at most [`READDIR_PAGE_MAX`], the
         *     default) whose names sort after `after`.
         */
        ReadDir: {
            after?: string | null;
            /** Format: int32 */
            limit?: number | null;
            node: components["schemas"]["NodeRef"];
        };
        /**
         * @description What a re-encryption pass did: the blocks an organization keeps under its own names that
         *     were rewritten with its current data key, and those already under it.
         */
        Reencrypted: {
            /** Format: int64 */
            current: number;
            /** Format: int32 */
            data_key: number;
            /** Format: int64 */
            rewritten: number;
        };
        Remove: {
            path: string;
            recursive?: boolean;
        };
        /** @description The removal of the entry `name` of the directory `parent` (`unlink`, `rmdir`). */
        RemoveName: {
            /**
             * Format: int64
             * @description When the mount made it (ns), for a removal shipped later: its directory's times.
             *     Taken if within the last hour, else now.
             */
            at?: number | null;
            name: string;
            parent: components["schemas"]["NodeRef"];
        };
        Rename: {
            from: string;
            /** @description Fail if `to` exists instead of replacing it. */
            no_replace?: boolean;
            to: string;
        };
        RenameNode: {
            /**
             * Format: int64
             * @description When the mount made it (ns), for a rename shipped later: the times it sets. Taken if
             *     within the last hour, else now.
             */
            at?: number | null;
            name: string;
            new_name: string;
            new_parent: components["schemas"]["NodeRef"];
            no_replace?: boolean;
            parent: components["schemas"]["NodeRef"];
        };
        RenameVolume: {
            /** @description The new name; the volume's snapshots are renamed with it. */
            name: string;
        };
        /** @description Returns a volume to a moment of its history (`to`: RFC 3339, or before now as `-10m`). */
        RestoreTo: {
            to: string;
        };
        /**
         * @description What a key may do beyond the volumes of its organization.
         * @enum {string}
         */
        Role: "admin" | "org-admin" | "member";
        Sandbox: {
            /**
             * Format: int64
             * @description Nanoseconds since the Unix epoch.
             */
            created_at: number;
            /** Format: uuid */
            id: string;
            limits: components["schemas"]["SandboxLimits"];
            network?: components["schemas"]["SandboxNetwork"];
            state: components["schemas"]["SandboxState"];
            volumes: components["schemas"]["SandboxVolume"][];
        };
        /** @description The limits a sandbox runs under. */
        SandboxLimits: {
            /** Format: int64 */
            disk_mib: number;
            /** Format: int64 */
            memory_mib: number;
            /** Format: int64 */
            millicpus: number;
            /** Format: int64 */
            processes: number;
        };
        /** @description Limits asked for at create; a field left out takes the default. */
        SandboxLimitsSpec: {
            /**
             * Format: int64
             * @description Bytes each writable folder (`/root`, `/tmp`) holds, in MiB; they count as memory too.
             */
            disk_mib?: number | null;
            /** Format: int64 */
            memory_mib?: number | null;
            /**
             * Format: int64
             * @description CPU time in thousandths of a core (1000 = one core).
             */
            millicpus?: number | null;
            /** Format: int64 */
            processes?: number | null;
        };
        /**
         * @description What a sandbox's network reaches.
         * @enum {string}
         */
        SandboxNetwork: "none" | "outbound";
        /** @enum {string} */
        SandboxState: "running" | "stopped" | "lost";
        /** @description A volume as a sandbox mounts it. */
        SandboxVolume: {
            mount_path: string;
            read_only: boolean;
            subpath?: string | null;
            volume: string;
            /** Format: uuid */
            volume_id: string;
        };
        /** @description One volume of a sandbox: which (id or name), which folder of it, where, how. */
        SandboxVolumeSpec: {
            /** @description Absolute path inside the sandbox. */
            mount_path: string;
            read_only?: boolean;
            /** @description A folder of the volume (relative, e.g. users/alice); the whole volume when absent. */
            subpath?: string | null;
            /** @description A volume's id or name. */
            volume_id: string;
        };
        SessionInfo: {
            /** Format: uuid */
            id: string;
            /**
             * Format: int64
             * @description How long the session's record locks count without a renewal, in milliseconds.
             */
            lease_ms?: number;
            read_only: boolean;
            root: components["schemas"]["Node"];
            volume: components["schemas"]["Volume"];
        };
        SetAttrNode: components["schemas"]["AttrChanges"] & {
            /**
             * Format: int64
             * @description When the mount made the change (ns), for one shipped later by a mount that owns its
             *     tree: the inode's ctime. Taken if within the last hour, else now.
             */
            at?: number | null;
            node: components["schemas"]["NodeRef"];
        };
        /** @description Attributes of one inode. */
        Stat: {
            /**
             * Format: int64
             * @description Nanoseconds since the Unix epoch.
             */
            atime: number;
            /** Format: int64 */
            ctime: number;
            /** Format: int32 */
            gid: number;
            /** Format: int64 */
            ino: number;
            kind: components["schemas"]["FileKind"];
            /**
             * Format: int32
             * @description Permission bits (`0o7777`).
             */
            mode: number;
            /** Format: int64 */
            mtime: number;
            /** Format: int32 */
            nlink: number;
            /** Format: int32 */
            rdev: number;
            /** Format: int64 */
            size: number;
            target?: string | null;
            /** Format: int32 */
            uid: number;
        };
        /** @description The blocks a volume's layers name and what the store keeps for them. */
        StoreUsage: {
            /**
             * Format: int64
             * @description Blocks named (each once, however many files, forks or past versions name it).
             */
            blocks: number;
            /**
             * Format: int64
             * @description Their bytes, uncompressed.
             */
            bytes: number;
            /**
             * Format: int64
             * @description The bytes the store keeps for them.
             */
            stored_bytes: number;
        };
        Symlink: {
            path: string;
            target: string;
        };
        /** @description What a scoped token reaches. */
        TokenScope: {
            read_only: boolean;
            /** @description Absolute in the volume, `/` for all of it. */
            subpath: string;
            /** @description The volume's name now; absent once the volume is deleted. */
            volume?: string | null;
            /** Format: uuid */
            volume_id: string;
        };
        Volume: {
            /**
             * @description How the blocks it stores are compressed (`off`, `zstd:LEVEL`), if it says (else the
             *     server's setting).
             */
            compression?: string | null;
            /**
             * Format: int64
             * @description Nanoseconds since the Unix epoch.
             */
            created_at: number;
            /** Format: int64 */
            file_count: number;
            /**
             * Format: uuid
             * @description For a fork, the volume it was forked from (what it is merged into or promoted over).
             */
            forked_from?: string | null;
            /**
             * Format: int64
             * @description How long the volume keeps its past, if it says (else the server's setting), in ns.
             */
            history_ns?: number | null;
            /** Format: uuid */
            id: string;
            /**
             * Format: int64
             * @description When it was last used (ns): the later of its last change and the last mount opened on it.
             */
            last_used_at?: number;
            /**
             * Format: int64
             * @description For a moment of a volume's history (named `VOLUME@TIME`), the instant it shows.
             */
            moment_at?: number | null;
            name: string;
            /**
             * Format: int64
             * @description The most bytes its files may hold, if it has a quota.
             */
            quota_bytes?: number | null;
            /**
             * Format: int64
             * @description The most files, directories and links it may hold, if it has a quota.
             */
            quota_files?: number | null;
            /**
             * Format: uuid
             * @description For a snapshot (named `VOLUME@SNAPSHOT`), the volume it was taken of.
             */
            snapshot_of?: string | null;
            state: components["schemas"]["VolumeState"];
            /** Format: int64 */
            updated_at: number;
            /** Format: int64 */
            used_bytes: number;
        };
        /** @enum {string} */
        VolumeState: "ready";
        /** @description `GET /v1/whoami`: the organization and API key a request was made with. */
        Whoami: {
            key_name: string;
            organization: string;
            role: string;
            scope?: components["schemas"]["TokenScope"] | null;
        };
        WriteContent: {
            /**
             * Format: int64
             * @description When the writer made the change (ns), for a change shipped later by a mount that owns
             *     its tree: its mtime and ctime. Taken if within the last hour, else now.
             */
            at?: number | null;
            /**
             * @description The chunks the writer read, for every index it replaces: when given, the write applies
             *     only if the file still has exactly these, and fails with 412 (`stale`) otherwise.
             */
            base?: components["schemas"]["ChunkRef"][] | null;
            chunks: components["schemas"]["ChunkRef"][];
            /**
             * Format: int64
             * @description Cut the content at this offset before storing `chunks` (the writer truncated).
             */
            cut_at?: number | null;
            /** @description Durable (on stable storage) when the call returns, as `fsync` asks. */
            durable?: boolean;
            grow?: boolean;
            node: components["schemas"]["NodeRef"];
            replace_all?: boolean;
            /**
             * Format: int64
             * @description The new size; with `grow`, the file becomes at least this long instead (a writer
             *     that only wrote sends the end of its writes, so it never undoes another's truncate).
             */
            size: number;
            then?: components["schemas"]["AttrChanges"] | null;
        };
        Xattr: {
            mode?: components["schemas"]["XattrSetMode"];
            /** @description Base64 of the attribute name's bytes. */
            name: string;
            node: components["schemas"]["NodeRef"];
            /** @description Base64 of the value, for set. */
            value?: string | null;
        };
        XattrNames: {
            /** @description Base64 of each name's bytes. */
            names: string[];
        };
        /** @enum {string} */
        XattrSetMode: "any" | "create" | "replace";
        XattrValue: {
            value: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    admin_metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description OpenMetrics text */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/openmetrics-text": string;
                };
            };
        };
    };
    snapshots_diff: {
        parameters: {
            query: {
                /**
                 * @description A volume or VOLUME@SNAPSHOT
                 * @example data@v1
                 */
                from: string;
                /**
                 * @description A volume or VOLUME@SNAPSHOT
                 * @example data
                 */
                to: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiffEntry"][];
                };
            };
        };
    };
    admin_fsck: {
        parameters: {
            query?: {
                /** @description Also read every stored block back and check it against its name */
                blocks?: boolean;
                /** @description Mend what is found */
                repair?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FsckReport"];
                };
            };
        };
    };
    admin_gc: {
        parameters: {
            query?: {
                /** @description Only count what would be deleted */
                dry_run?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GcReport"];
                };
            };
        };
    };
    admin_health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    keys_list_keys: {
        parameters: {
            query?: {
                /** @description Another organization (admin keys only) */
                org?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeyInfo"][];
                };
            };
        };
    };
    keys_create_key: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateKey"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewKey"];
                };
            };
        };
    };
    keys_revoke_key: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The key's id */
                key: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    admin_document: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The OpenAPI document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
        };
    };
    keys_list_orgs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"][];
                };
            };
        };
    };
    keys_create_org: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateOrg"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"];
                };
            };
        };
    };
    keys_get_org: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The organization (another than the key's: admin keys only) */
                org: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"];
                };
            };
        };
    };
    keys_encrypt_org: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The organization */
                org: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"];
                };
            };
        };
    };
    keys_set_org_quota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The organization */
                org: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OrgQuota"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"];
                };
            };
        };
    };
    keys_reencrypt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The organization */
                org: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Reencrypted"];
                };
            };
        };
    };
    keys_rotate_key: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The organization */
                org: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Org"];
                };
            };
        };
    };
    sandboxes_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sandbox"][];
                };
            };
        };
    };
    sandboxes_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateSandbox"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Started */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sandbox"];
                };
            };
        };
    };
    sandboxes_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The sandbox's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Sandbox"];
                };
            };
        };
    };
    sandboxes_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The sandbox's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sandboxes_exec: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The sandbox's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Exec"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecResult"];
                };
            };
        };
    };
    sandboxes_download: {
        parameters: {
            query: {
                /** @description An absolute path inside the sandbox */
                path: string;
            };
            header?: never;
            path: {
                /** @description The sandbox's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The bytes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
        };
    };
    sandboxes_upload: {
        parameters: {
            query: {
                /** @description An absolute path inside the sandbox */
                path: string;
            };
            header?: never;
            path: {
                /** @description The sandbox's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LiveSession"][];
                };
            };
        };
    };
    sessions_close: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_apply: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["Batch"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_get_block: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The block's hex BLAKE3 hash */
                hash: string;
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The bytes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
        };
    };
    sessions_put_block: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The block's hex BLAKE3 hash */
                hash: string;
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_get_pieces: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The first piece (64 KiB each) to send. */
                first: number;
                /** @description The block's hex BLAKE3 hash */
                hash: string;
                /** @description The mount session's id */
                id: string;
                /** @description The piece after the last one to send. */
                last: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Size, piece values, bytes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
        };
    };
    sessions_content: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["NodeOnly"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Content"];
                };
            };
        };
    };
    sessions_create: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CreateNode"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Node"];
                };
            };
        };
    };
    sessions_disown: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_getattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["NodeOnly"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    sessions_getlk: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["LockRequest"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LockTest"];
                };
            };
        };
    };
    sessions_getxattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["Xattr"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["XattrValue"];
                };
            };
        };
    };
    sessions_link: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["LinkNode"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Node"];
                };
            };
        };
    };
    sessions_listxattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["NodeOnly"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["XattrNames"];
                };
            };
        };
    };
    sessions_lookup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["NodeName"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Node"];
                };
            };
        };
    };
    sessions_own: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Grant"];
                };
            };
        };
    };
    sessions_readdir: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ReadDir"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DirPage"];
                };
            };
        };
    };
    sessions_recall: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["AwaitRecall"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ownership"];
                };
            };
        };
    };
    sessions_removexattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["Xattr"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_rename: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RenameNode"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_renew: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_rmdir: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RemoveName"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_setattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["SetAttrNode"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    sessions_setlk: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["LockRequest"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_setxattr: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["Xattr"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_statfs: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FsStats"];
                };
            };
        };
    };
    sessions_sync: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_unlink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RemoveName"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sessions_write: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The mount session's id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["WriteContent"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    keys_create_token: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateToken"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewKey"];
                };
            };
        };
    };
    volumes_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"][];
                };
            };
        };
    };
    volumes_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateVolume"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description It existed (exist_ok) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    volumes_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    volumes_delete: {
        parameters: {
            query?: {
                /** @description Delete even while mounts use it */
                force?: boolean;
            };
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    volumes_set_compression: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CompressionSetting"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    snapshots_fork: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Fork"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    files_chmod: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Chmod"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    files_get: {
        parameters: {
            query: {
                /**
                 * @description A path in the volume
                 * @example /notes.txt
                 */
                path: string;
            };
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The bytes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
        };
    };
    files_put: {
        parameters: {
            query: {
                /** @description Permission bits, 0644 by default */
                mode?: number;
                /**
                 * @description A path in the volume
                 * @example /notes.txt
                 */
                path: string;
            };
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    files_copy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Copy"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    files_list: {
        parameters: {
            query: {
                /**
                 * @description A path in the volume
                 * @example /notes.txt
                 */
                path: string;
            };
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DirEntry"][];
                };
            };
        };
    };
    files_mkdir: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Mkdir"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    files_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Remove"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    files_rename: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Rename"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    files_stat: {
        parameters: {
            query: {
                /**
                 * @description A path in the volume
                 * @example /notes.txt
                 */
                path: string;
            };
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    files_symlink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Symlink"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stat"];
                };
            };
        };
    };
    history_history: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Most windows listed, newest first (1 to 10,000; 100 when unset). */
                limit: number | null;
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HistoryPoint"][];
                };
            };
        };
    };
    history_set_history: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["HistoryKeep"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    history_merge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The fork's name or id
                 * @example experiment
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MergeRequest"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description What was merged, or would be; conflicts */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MergeReport"];
                };
            };
        };
    };
    history_promote: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The fork's name or id
                 * @example experiment
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The source volume, now holding the fork's tree */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    volumes_set_quota: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Quota"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    volumes_rename: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RenameVolume"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    history_restore_to: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RestoreTo"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    sessions_open: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["OpenSession"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Opened */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionInfo"];
                };
            };
        };
    };
    snapshots_list_snapshots: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"][];
                };
            };
        };
    };
    snapshots_create_snapshot: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateSnapshot"];
            };
        };
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    snapshots_delete_snapshot: {
        parameters: {
            query?: {
                /** @description Delete even while mounts use it */
                force?: boolean;
            };
            header?: never;
            path: {
                /**
                 * @description The snapshot's name
                 * @example v1
                 */
                name: string;
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    snapshots_restore: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The snapshot's name
                 * @example v1
                 */
                name: string;
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Volume"];
                };
            };
        };
    };
    volumes_usage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The volume's name or id
                 * @example data
                 */
                volume: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StoreUsage"];
                };
            };
        };
    };
    admin_whoami: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request was refused; `error.field` names the input at fault */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The server or its storage failed */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Whoami"];
                };
            };
        };
    };
}
