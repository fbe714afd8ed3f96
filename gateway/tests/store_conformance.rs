//! The contract of `gateway::store::Store`, run against SQLite and PostgreSQL.

mod support;

use gateway::ids::{NoteId, UserId};
use gateway::store::{self, NewUser, NoteRecord, NoteReplacement, StoreError};
use support::{Backend, TestStore};

fn new_user(username: &str) -> NewUser {
    NewUser {
        id: UserId::new_random(),
        username: username.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        key_salt: vec![5; 32],
        created_at: store::now(),
    }
}

fn new_note(owner: UserId, marker: u8) -> NoteRecord {
    let now = store::now();
    NoteRecord {
        id: NoteId::new_time_ordered(),
        owner,
        title_sealed: vec![marker; 40],
        body_sealed: vec![marker; 80],
        created_at: now,
        updated_at: now,
    }
}

async fn store_with_user(backend: Backend, username: &str) -> (TestStore, UserId) {
    let test_store = TestStore::new(backend).await;
    let user = new_user(username);
    test_store.store.create_user(&user).await.unwrap();
    (test_store, user.id)
}

async fn created_user_is_found_by_name_and_id(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let user = new_user("alice");

    test_store.store.create_user(&user).await.unwrap();
    let by_name = test_store
        .store
        .find_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let by_id = test_store.store.find_user(user.id).await.unwrap().unwrap();

    assert_eq!(by_name.id, user.id);
    assert_eq!(by_name.password_hash, user.password_hash);
    assert_eq!(by_name.key_salt, user.key_salt);
    assert_eq!(by_id.username, "alice");
}

async fn duplicate_username_is_rejected(backend: Backend) {
    let (test_store, _) = store_with_user(backend, "alice").await;

    let result = test_store.store.create_user(&new_user("alice")).await;

    assert!(
        matches!(result, Err(StoreError::UsernameTaken)),
        "{result:?}"
    );
}

async fn unknown_user_is_none(backend: Backend) {
    let test_store = TestStore::new(backend).await;

    let by_name = test_store
        .store
        .find_user_by_username("nobody")
        .await
        .unwrap();
    let by_id = test_store
        .store
        .find_user(UserId::new_random())
        .await
        .unwrap();

    assert!(by_name.is_none());
    assert!(by_id.is_none());
}

async fn inserted_note_reads_back_unchanged(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let note = new_note(owner, 1);

    test_store.store.insert_note(&note, u64::MAX).await.unwrap();
    let read = test_store.store.get_note(owner, note.id).await.unwrap();

    assert_eq!(read, Some(note));
}

async fn note_is_invisible_to_other_owner(backend: Backend) {
    let (test_store, alice) = store_with_user(backend, "alice").await;
    let bob = new_user("bob");
    test_store.store.create_user(&bob).await.unwrap();
    let note = new_note(alice, 1);
    test_store.store.insert_note(&note, u64::MAX).await.unwrap();
    let replacement = NoteReplacement {
        title_sealed: vec![9; 40],
        body_sealed: vec![9; 80],
        updated_at: store::now(),
    };

    let read = test_store.store.get_note(bob.id, note.id).await.unwrap();
    let listed = test_store.store.list_notes(bob.id, None, 10).await.unwrap();
    let replaced = test_store
        .store
        .replace_note(bob.id, note.id, &replacement)
        .await
        .unwrap();
    let deleted = test_store.store.delete_note(bob.id, note.id).await.unwrap();

    assert!(read.is_none());
    assert!(listed.is_empty());
    assert!(replaced.is_none());
    assert!(!deleted);
    assert_eq!(
        test_store.store.get_note(alice, note.id).await.unwrap(),
        Some(note)
    );
}

async fn list_pages_newest_first(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let mut ids = Vec::new();
    for marker in 0..5 {
        let note = new_note(owner, marker);
        test_store.store.insert_note(&note, u64::MAX).await.unwrap();
        ids.push(note.id);
    }
    ids.reverse();

    let first = test_store.store.list_notes(owner, None, 2).await.unwrap();
    let second = test_store
        .store
        .list_notes(owner, Some(first[1].id), 2)
        .await
        .unwrap();
    let third = test_store
        .store
        .list_notes(owner, Some(second[1].id), 2)
        .await
        .unwrap();

    let listed: Vec<NoteId> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|note| note.id)
        .collect();
    assert_eq!(listed, ids);
    assert_eq!(third.len(), 1);
}

async fn replace_updates_fields_and_keeps_creation_time(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let note = new_note(owner, 1);
    test_store.store.insert_note(&note, u64::MAX).await.unwrap();
    let replacement = NoteReplacement {
        title_sealed: vec![2; 41],
        body_sealed: vec![2; 81],
        updated_at: store::now() + time::Duration::seconds(5),
    };

    let created_at = test_store
        .store
        .replace_note(owner, note.id, &replacement)
        .await
        .unwrap();
    let read = test_store
        .store
        .get_note(owner, note.id)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(created_at, Some(note.created_at));
    assert_eq!(read.title_sealed, replacement.title_sealed);
    assert_eq!(read.body_sealed, replacement.body_sealed);
    assert_eq!(read.updated_at, replacement.updated_at);
    assert_eq!(read.created_at, note.created_at);
}

async fn deleted_note_is_gone(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let note = new_note(owner, 1);
    test_store.store.insert_note(&note, u64::MAX).await.unwrap();

    let deleted = test_store.store.delete_note(owner, note.id).await.unwrap();
    let deleted_again = test_store.store.delete_note(owner, note.id).await.unwrap();

    assert!(deleted);
    assert!(!deleted_again);
    assert!(
        test_store
            .store
            .get_note(owner, note.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn count_covers_only_owner(backend: Backend) {
    let (test_store, alice) = store_with_user(backend, "alice").await;
    let bob = new_user("bob");
    test_store.store.create_user(&bob).await.unwrap();
    for marker in 0..3 {
        test_store
            .store
            .insert_note(&new_note(alice, marker), u64::MAX)
            .await
            .unwrap();
    }
    test_store
        .store
        .insert_note(&new_note(bob.id, 9), u64::MAX)
        .await
        .unwrap();

    let alices = test_store.store.count_notes(alice).await.unwrap();
    let bobs = test_store.store.count_notes(bob.id).await.unwrap();

    assert_eq!(alices, 3);
    assert_eq!(bobs, 1);
}

async fn insert_stops_at_note_limit(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let store = &test_store.store;
    let first = new_note(owner, 1);

    let inserted = [
        store.insert_note(&first, 2).await.unwrap(),
        store.insert_note(&new_note(owner, 2), 2).await.unwrap(),
        store.insert_note(&new_note(owner, 3), 2).await.unwrap(),
    ];
    let count_at_limit = store.count_notes(owner).await.unwrap();
    let listed = store.list_notes(owner, None, 10).await.unwrap().len();
    store.delete_note(owner, first.id).await.unwrap();
    let after_delete = store.insert_note(&new_note(owner, 4), 2).await.unwrap();

    assert_eq!(inserted, [true, true, false]);
    assert_eq!(count_at_limit, 2);
    assert_eq!(listed, 2);
    assert!(after_delete, "a delete makes room for one note");
    assert_eq!(store.count_notes(owner).await.unwrap(), 2);
}

async fn concurrent_inserts_respect_note_limit(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let store = &test_store.store;

    let mut inserts = tokio::task::JoinSet::new();
    for marker in 0..12 {
        let store = std::sync::Arc::clone(store);
        inserts.spawn(async move {
            store
                .insert_note(&new_note(owner, marker), 5)
                .await
                .unwrap()
        });
    }
    let inserted = inserts.join_all().await;

    assert_eq!(inserted.iter().filter(|inserted| **inserted).count(), 5);
    assert_eq!(store.count_notes(owner).await.unwrap(), 5);
    assert_eq!(store.list_notes(owner, None, 20).await.unwrap().len(), 5);
}

async fn insert_for_missing_owner_is_rejected(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let missing = UserId::new_random();

    let inserted = test_store
        .store
        .insert_note(&new_note(missing, 1), 10)
        .await
        .unwrap();

    assert!(!inserted);
    assert!(
        test_store
            .store
            .list_notes(missing, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn failed_insert_keeps_count(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let store = &test_store.store;
    let note = new_note(owner, 1);
    store.insert_note(&note, 10).await.unwrap();

    let duplicate = store.insert_note(&note, 10).await;

    assert!(duplicate.is_err(), "{duplicate:?}");
    assert_eq!(store.count_notes(owner).await.unwrap(), 1);
}

/// Concurrent inserts may share one commit (SQLite does), so a failing one
/// among them must not take the others down.
async fn failed_insert_among_concurrent_keeps_others(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let store = &test_store.store;
    let existing = new_note(owner, 0);
    store.insert_note(&existing, 100).await.unwrap();

    let mut inserts = tokio::task::JoinSet::new();
    for marker in 1..=8 {
        let store = std::sync::Arc::clone(store);
        // The fourth insert reuses the stored note's id.
        let note = if marker == 4 {
            existing.clone()
        } else {
            new_note(owner, marker)
        };
        inserts.spawn(async move { (marker, store.insert_note(&note, 100).await) });
    }
    let results = inserts.join_all().await;

    for (marker, result) in &results {
        if *marker == 4 {
            assert!(result.is_err(), "duplicate id: {result:?}");
        } else {
            assert!(matches!(result, Ok(true)), "note {marker}: {result:?}");
        }
    }
    assert_eq!(store.count_notes(owner).await.unwrap(), 8);
    assert_eq!(store.list_notes(owner, None, 20).await.unwrap().len(), 8);
}

async fn deleting_missing_note_keeps_count(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let store = &test_store.store;
    store.insert_note(&new_note(owner, 1), 10).await.unwrap();

    let deleted = store
        .delete_note(owner, NoteId::new_time_ordered())
        .await
        .unwrap();

    assert!(!deleted);
    assert_eq!(store.count_notes(owner).await.unwrap(), 1);
}

async fn deleting_other_owners_note_keeps_both_counts(backend: Backend) {
    let (test_store, alice) = store_with_user(backend, "alice").await;
    let store = &test_store.store;
    let bob = new_user("bob");
    store.create_user(&bob).await.unwrap();
    let note = new_note(alice, 1);
    store.insert_note(&note, 10).await.unwrap();

    let deleted = store.delete_note(bob.id, note.id).await.unwrap();

    assert!(!deleted);
    assert_eq!(store.count_notes(alice).await.unwrap(), 1);
    assert_eq!(store.count_notes(bob.id).await.unwrap(), 0);
    assert!(store.get_note(alice, note.id).await.unwrap().is_some());
}

async fn reconnecting_keeps_data_and_migrations(backend: Backend) {
    let (test_store, owner) = store_with_user(backend, "alice").await;
    let note = new_note(owner, 1);
    test_store.store.insert_note(&note, u64::MAX).await.unwrap();
    test_store.store.close().await;

    let reopened = store::connect(&test_store.target).await.unwrap();

    assert_eq!(reopened.get_note(owner, note.id).await.unwrap(), Some(note));
    reopened.close().await;
}

async fn ping_succeeds(backend: Backend) {
    let test_store = TestStore::new(backend).await;

    test_store.store.ping().await.unwrap();
}

on_both_stores!(
    created_user_is_found_by_name_and_id,
    duplicate_username_is_rejected,
    unknown_user_is_none,
    inserted_note_reads_back_unchanged,
    note_is_invisible_to_other_owner,
    list_pages_newest_first,
    replace_updates_fields_and_keeps_creation_time,
    deleted_note_is_gone,
    count_covers_only_owner,
    insert_stops_at_note_limit,
    concurrent_inserts_respect_note_limit,
    insert_for_missing_owner_is_rejected,
    failed_insert_keeps_count,
    failed_insert_among_concurrent_keeps_others,
    deleting_missing_note_keeps_count,
    deleting_other_owners_note_keeps_both_counts,
    reconnecting_keeps_data_and_migrations,
    ping_succeeds,
);
