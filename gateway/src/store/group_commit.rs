//! Group commit of SQLite note inserts: one writer task commits the
//! inserts that queued while the previous commit waited on its disk sync,
//! in one transaction, so concurrent creates share a sync.
//!
//! Each caller gets its own result only after the transaction that contains
//! its insert has committed, so an acknowledged note is as durable as with
//! a transaction of its own. Each insert is one statement that checks its
//! owner's note count, and a trigger raises the count (migration
//! `20261205000004_note_count_triggers.sql`). A batch of one insert runs
//! that statement on its own, without `BEGIN` and `COMMIT`, which saves two
//! round trips to the connection's thread when creates do not overlap. A
//! caller that stops waiting does not withdraw its insert: the note is
//! stored if its batch commits.
//!
//! The writer keeps one pool connection while its inserts succeed. sqlx
//! 0.8 pings each connection returned to its pool (`return_to_pool` in
//! sqlx-core), which would cost one more round trip to the connection's
//! thread per batch. After an error other than a constraint violation, the
//! writer closes the connection, whose transaction state it can no longer
//! trust, and takes another one for the next batch. When the pool is
//! closed, the writer gives its connection back at once.

use std::sync::Arc;

use sqlx::Connection;
use sqlx::error::ErrorKind;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{NoteRecord, StoreError};

/// Maximum inserts in one transaction.
const MAX_BATCH: usize = 64;

/// Maximum inserts waiting for the writer. Further callers wait to enqueue.
const QUEUE_CAPACITY: usize = 1024;

/// One queued insert and the channel for its result.
struct PendingInsert {
    note: NoteRecord,
    max_notes: i64,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// Handle to the writer task. The task ends when the last handle is
/// dropped and the queue is empty.
pub(super) struct NoteInserter {
    queue: mpsc::Sender<PendingInsert>,
}

impl NoteInserter {
    /// Starts the writer task on the current Tokio runtime.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(pool, receiver));
        Self { queue }
    }

    /// Inserts `note` unless its owner is missing or already has
    /// `max_notes` notes, and returns whether it was inserted, once the
    /// insert has committed.
    pub(super) async fn insert(
        &self,
        note: &NoteRecord,
        max_notes: i64,
    ) -> Result<bool, StoreError> {
        let (done, result) = oneshot::channel();
        let pending = PendingInsert {
            note: note.clone(),
            max_notes,
            done,
        };
        self.queue
            .send(pending)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        result.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Returns whether the writer task has ended, for example by a panic.
    pub(super) fn is_stopped(&self) -> bool {
        self.queue.is_closed()
    }
}

// NOTE: under sustained creates the writer takes the write lock again
// right after each commit. Other writers (delete, replace, sign-up) sleep
// between retries in SQLite's busy handler, so they may keep missing those
// short gaps until their 5 s busy timeout. A short mixed load saw no busy
// timeout, but the waits were not measured.
async fn write_batches(pool: SqlitePool, mut receiver: mpsc::Receiver<PendingInsert>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut writer_connection: Option<PoolConnection<Sqlite>> = None;
    loop {
        let received = tokio::select! {
            received = receiver.recv_many(&mut batch, MAX_BATCH) => received,
            () = pool.close_event(), if writer_connection.is_some() => {
                // Dropped into a closed pool, the connection is closed.
                writer_connection = None;
                continue;
            }
        };
        if received == 0 {
            break;
        }

        let batch = std::mem::take(&mut batch);
        // A kept connection is not used once the pool is closed, so that
        // inserts fail as every other query does.
        let mut connection = match writer_connection.take() {
            Some(connection) if !pool.is_closed() => connection,
            _ => match pool.acquire().await {
                Ok(connection) => connection,
                Err(error) => {
                    fail_all(batch, error);
                    continue;
                }
            },
        };
        if commit_batch(&mut connection, batch).await {
            writer_connection = Some(connection);
        } else {
            connection.close_on_drop();
        }
    }
}

/// Inserts every note of `batch` and sends each caller its result after
/// the commit: a batch of one as a statement of its own, a larger batch in
/// one transaction. When that transaction itself fails, every caller gets
/// that error. Returns false after an error other than a constraint
/// violation, when the writer should close `connection`.
async fn commit_batch(connection: &mut SqliteConnection, mut batch: Vec<PendingInsert>) -> bool {
    if batch.len() == 1
        && let Some(pending) = batch.pop()
    {
        return insert_alone(connection, pending).await;
    }

    let mut transaction = match connection.begin().await {
        Ok(transaction) => transaction,
        Err(error) => {
            fail_all(batch, error);
            return false;
        }
    };

    let mut results = Vec::with_capacity(batch.len());
    for pending in &batch {
        match insert_one(&mut *transaction, pending).await {
            Ok(result) => results.push(result),
            Err(error) => {
                fail_all(batch, error);
                return false;
            }
        }
    }
    if let Err(error) = transaction.commit().await {
        fail_all(batch, error);
        return false;
    }

    for (pending, result) in batch.into_iter().zip(results) {
        // A caller that stopped waiting has nothing to receive.
        let _ = pending.done.send(result);
    }
    true
}

/// Runs the insert of a batch of one in its own implicit transaction, which
/// commits when the statement ends.
///
/// NOTE: an error from that implicit commit (a failed WAL sync, say) leaves
/// the outcome as unknown as a failed `COMMIT` does, though the caller gets
/// `StoreError::Database`, which does not say so.
async fn insert_alone(connection: &mut SqliteConnection, pending: PendingInsert) -> bool {
    let (result, trusted) = match insert_one(connection, &pending).await {
        Ok(result) => (result, true),
        Err(error) => {
            tracing::error!(
                error = %error,
                note_id = %pending.note.id,
                user_id = %pending.note.owner,
                "a note insert failed"
            );
            (Err(error.into()), false)
        }
    };
    // A caller that stopped waiting has nothing to receive.
    let _ = pending.done.send(result);
    trusted
}

/// Runs one insert, inside the shared transaction or alone. The inner
/// result is this insert's own outcome. An outer `Err` means a shared
/// transaction can no longer be trusted, so the whole batch rolls back.
async fn insert_one<'c, E>(
    executor: E,
    pending: &PendingInsert,
) -> Result<Result<bool, StoreError>, sqlx::Error>
where
    E: sqlx::SqliteExecutor<'c>,
{
    let note = &pending.note;
    // No row is selected when the owner is gone or has reached the limit.
    let inserted = sqlx::query(
        "INSERT INTO notes (id, owner_id, title_sealed, body_sealed, created_at, updated_at) \
         SELECT ?, id, ?, ?, ?, ? FROM users WHERE id = ? AND note_count < ?",
    )
    .bind(note.id.as_uuid())
    .bind(&note.title_sealed)
    .bind(&note.body_sealed)
    .bind(note.created_at)
    .bind(note.updated_at)
    .bind(note.owner.as_uuid())
    .bind(pending.max_notes)
    .execute(executor)
    .await;
    match inserted {
        Ok(done) => Ok(Ok(done.rows_affected() == 1)),
        // SQLite undid only the failed statement, with the count its
        // trigger had raised, so the other inserts of a batch can commit.
        // NOTE: true only while the notes table uses the default ABORT
        // conflict resolution; `ON CONFLICT ROLLBACK` would break this.
        Err(error) if is_constraint_violation(&error) => Ok(Err(error.into())),
        // Other errors (I/O, full disk) may have rolled back the whole
        // transaction, so the batch fails.
        Err(error) => Err(error),
    }
}

fn is_constraint_violation(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|error| {
        matches!(
            error.kind(),
            ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        )
    })
}

fn fail_all(batch: Vec<PendingInsert>, error: sqlx::Error) {
    tracing::error!(
        error = %error,
        inserts = batch.len(),
        "a shared commit of note inserts failed"
    );
    let error = Arc::new(error);
    for pending in batch {
        let _ = pending
            .done
            .send(Err(StoreError::SharedCommit(Arc::clone(&error))));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;
    use crate::ids::{NoteId, UserId};

    fn note() -> NoteRecord {
        note_of(UserId::new_random())
    }

    fn note_of(owner: UserId) -> NoteRecord {
        let now = crate::store::now();
        NoteRecord {
            id: NoteId::new_time_ordered(),
            owner,
            title_sealed: vec![1; 40],
            body_sealed: vec![2; 40],
            created_at: now,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn closed_pool_fails_every_queued_insert() {
        let pool = SqlitePoolOptions::new()
            .connect("sqlite::memory:")
            .await
            .unwrap();
        pool.close().await;
        let inserter = NoteInserter::start(pool);

        let (first_note, second_note) = (note(), note());
        let (first, second) = tokio::join!(
            inserter.insert(&first_note, 10),
            inserter.insert(&second_note, 10)
        );

        // Both fail, whether the writer took them as one batch or as two
        // batches of one.
        assert!(
            matches!(
                first,
                Err(StoreError::SharedCommit(_) | StoreError::Database(_))
            ),
            "{first:?}"
        );
        assert!(
            matches!(
                second,
                Err(StoreError::SharedCommit(_) | StoreError::Database(_))
            ),
            "{second:?}"
        );
        assert!(
            !inserter.is_stopped(),
            "a failed batch must not stop the writer"
        );
    }

    #[tokio::test]
    async fn stopped_writer_is_reported() {
        let (queue, receiver) = mpsc::channel(1);
        drop(receiver);
        let inserter = NoteInserter { queue };

        let note = note();
        let result = inserter.insert(&note, 10).await;

        assert!(inserter.is_stopped());
        assert!(
            matches!(result, Err(StoreError::WriterStopped)),
            "{result:?}"
        );
    }

    /// Migrates the database of `pool` and adds one user; returns its id.
    async fn migrate_and_add_user(pool: &SqlitePool) -> UserId {
        sqlx::migrate!("./migrations/sqlite")
            .run(pool)
            .await
            .unwrap();
        let owner = UserId::new_random();
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, key_salt, created_at) \
             VALUES (?, 'alice', 'hash', x'00', '2026-12-05T00:00:00Z')",
        )
        .bind(owner.as_uuid())
        .execute(pool)
        .await
        .unwrap();
        owner
    }

    /// Opens a pool of two connections on a migrated database file and
    /// adds one user; returns the pool, the user and the file's folder.
    async fn pool_with_user() -> (SqlitePool, UserId, tempfile::TempDir) {
        let folder = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(folder.path().join("notes.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .unwrap();
        let owner = migrate_and_add_user(&pool).await;
        (pool, owner, folder)
    }

    /// Returns how many connections of `pool` are taken out, 200 ms after
    /// the call, because sqlx returns a connection to its pool in a task of
    /// its own, after a round trip to the connection's thread.
    async fn taken(pool: &SqlitePool) -> u32 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        pool.size() - u32::try_from(pool.num_idle()).unwrap()
    }

    /// Waits up to 5 s for `pool` to have `size` connections open; returns
    /// the last count.
    async fn open_connections(pool: &SqlitePool, size: u32) -> u32 {
        for _ in 0..500 {
            if pool.size() == size {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        pool.size()
    }

    #[tokio::test]
    async fn writer_keeps_its_connection_until_an_error() {
        let (pool, owner, _folder) = pool_with_user().await;
        let inserter = NoteInserter::start(pool.clone());

        let first = inserter.insert(&note_of(owner), 10).await;
        assert!(matches!(first, Ok(true)), "{first:?}");
        assert_eq!(taken(&pool).await, 1, "the writer keeps its connection");

        // A duplicate id is a constraint violation: the writer keeps the
        // connection.
        let stored = note_of(owner);
        assert!(matches!(inserter.insert(&stored, 10).await, Ok(true)));
        let duplicate = inserter.insert(&stored, 10).await;
        assert!(
            matches!(duplicate, Err(StoreError::Database(_))),
            "{duplicate:?}"
        );
        assert_eq!(taken(&pool).await, 1);

        // Without the table, the insert fails otherwise: the writer closes
        // the connection, leaving the test's idle one.
        sqlx::query("ALTER TABLE notes RENAME TO notes_away")
            .execute(&pool)
            .await
            .unwrap();
        let failed = inserter.insert(&note_of(owner), 10).await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        assert_eq!(
            open_connections(&pool, 1).await,
            1,
            "the writer closed its connection"
        );
        assert!(!inserter.is_stopped());

        // The next insert runs on a new connection.
        sqlx::query("ALTER TABLE notes_away RENAME TO notes")
            .execute(&pool)
            .await
            .unwrap();
        let next = inserter.insert(&note_of(owner), 10).await;
        assert!(matches!(next, Ok(true)), "{next:?}");
    }

    #[tokio::test]
    async fn writer_gives_back_connection_on_close() {
        let (pool, owner, _folder) = pool_with_user().await;
        let inserter = NoteInserter::start(pool.clone());
        let inserted = inserter.insert(&note_of(owner), 10).await;
        assert!(matches!(inserted, Ok(true)), "{inserted:?}");

        let closed = tokio::time::timeout(Duration::from_secs(5), pool.close()).await;

        assert!(closed.is_ok(), "closing the pool timed out");
        assert_eq!(
            open_connections(&pool, 0).await,
            0,
            "the writer's connection stayed open"
        );
        let after_close = inserter.insert(&note_of(owner), 10).await;
        assert!(after_close.is_err(), "{after_close:?}");
    }

    /// Queues three inserts before the writer starts, so they share one
    /// transaction, and makes the middle one reuse a stored note's id.
    #[tokio::test]
    async fn duplicate_in_shared_batch_fails_alone() {
        // One connection, so every query uses the same in-memory database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let owner = migrate_and_add_user(&pool).await;
        let stored = note_of(owner);
        sqlx::query(
            "INSERT INTO notes (id, owner_id, title_sealed, body_sealed, created_at, updated_at) \
             VALUES (?, ?, x'01', x'02', '2026-12-05T00:00:00Z', '2026-12-05T00:00:00Z')",
        )
        .bind(stored.id.as_uuid())
        .bind(owner.as_uuid())
        .execute(&pool)
        .await
        .unwrap();

        let (queue, receiver) = mpsc::channel(8);
        let mut results = Vec::new();
        for note in [note_of(owner), stored, note_of(owner)] {
            let (done, result) = oneshot::channel();
            let pending = PendingInsert {
                note,
                max_notes: 10,
                done,
            };
            queue.send(pending).await.unwrap();
            results.push(result);
        }
        drop(queue);
        write_batches(pool.clone(), receiver).await;

        let mut outcomes = Vec::new();
        for result in results {
            outcomes.push(result.await.unwrap());
        }
        assert!(matches!(outcomes[0], Ok(true)), "{:?}", outcomes[0]);
        assert!(
            matches!(outcomes[1], Err(StoreError::Database(_))),
            "{:?}",
            outcomes[1]
        );
        assert!(matches!(outcomes[2], Ok(true)), "{:?}", outcomes[2]);
        let (count,): (i64,) = sqlx::query_as("SELECT note_count FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notes")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 3);
        assert_eq!(rows, 3);
    }
}
