//! The plugin half of the `Store` contract, run against SQLite and PostgreSQL.

mod support;

use gateway::ids::{PluginId, UserId};
use gateway::store::{self, NewUser, PluginRecord, StoreError, Visibility};
use support::{Backend, TestStore};

async fn create_user(test_store: &TestStore, username: &str) -> UserId {
    let user = NewUser {
        id: UserId::new_random(),
        username: username.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        key_salt: vec![5; 32],
        created_at: store::now(),
    };
    test_store.store.create_user(&user).await.unwrap();
    user.id
}

fn plugin(owner: UserId, name: &str, visibility: Visibility, bytes: &[u8]) -> PluginRecord {
    PluginRecord {
        id: PluginId::new_time_ordered(),
        owner,
        name: name.to_owned(),
        description: Some("counts words".to_owned()),
        version: None,
        visibility,
        sha256: plugin_registry::PluginDigest::of(bytes)
            .as_bytes()
            .to_owned(),
        size_bytes: bytes.len() as u64,
        created_at: store::now(),
    }
}

async fn inserted_plugin_reads_back(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let owner = create_user(&test_store, "alice").await;
    let record = plugin(owner, "wc", Visibility::Private, b"component");

    test_store
        .store
        .insert_plugin(&record, b"component")
        .await
        .unwrap();

    let found = test_store
        .store
        .get_visible_plugin(owner, record.id)
        .await
        .unwrap();
    assert_eq!(found, Some(record.clone()));
    let bytes = test_store.store.plugin_bytes(&record.sha256).await.unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"component"[..]));
}

async fn private_plugin_is_invisible_to_others(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let alice = create_user(&test_store, "alice").await;
    let bob = create_user(&test_store, "bob").await;
    let private = plugin(alice, "mine", Visibility::Private, b"private");
    let public = plugin(alice, "shared", Visibility::Public, b"public");
    test_store
        .store
        .insert_plugin(&private, b"private")
        .await
        .unwrap();
    test_store
        .store
        .insert_plugin(&public, b"public")
        .await
        .unwrap();

    assert_eq!(
        test_store
            .store
            .get_visible_plugin(bob, private.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        test_store
            .store
            .get_visible_plugin(bob, public.id)
            .await
            .unwrap(),
        Some(public.clone())
    );

    let listed = test_store
        .store
        .list_visible_plugins(bob, None, 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![public.clone()]);
    let listed = test_store
        .store
        .list_visible_plugins(alice, None, 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![public, private]);
}

async fn duplicate_name_for_one_owner_is_rejected(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let owner = create_user(&test_store, "alice").await;
    let first = plugin(owner, "wc", Visibility::Private, b"one");
    let second = plugin(owner, "wc", Visibility::Private, b"two");
    test_store
        .store
        .insert_plugin(&first, b"one")
        .await
        .unwrap();

    let error = test_store
        .store
        .insert_plugin(&second, b"two")
        .await
        .unwrap_err();

    assert!(matches!(error, StoreError::PluginNameTaken), "{error:?}");
    assert_eq!(
        test_store.store.plugin_bytes(&second.sha256).await.unwrap(),
        None
    );
}

async fn shared_bytes_survive_until_last_delete(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let alice = create_user(&test_store, "alice").await;
    let bob = create_user(&test_store, "bob").await;
    let first = plugin(alice, "wc", Visibility::Private, b"same");
    let second = plugin(bob, "wc", Visibility::Private, b"same");
    test_store
        .store
        .insert_plugin(&first, b"same")
        .await
        .unwrap();
    test_store
        .store
        .insert_plugin(&second, b"same")
        .await
        .unwrap();

    assert!(
        !test_store.store.delete_plugin(bob, first.id).await.unwrap(),
        "not bob's"
    );
    assert!(
        test_store
            .store
            .delete_plugin(alice, first.id)
            .await
            .unwrap()
    );
    assert!(
        test_store
            .store
            .plugin_bytes(&first.sha256)
            .await
            .unwrap()
            .is_some()
    );

    assert!(
        test_store
            .store
            .delete_plugin(bob, second.id)
            .await
            .unwrap()
    );
    assert_eq!(
        test_store.store.plugin_bytes(&first.sha256).await.unwrap(),
        None
    );
}

async fn plugin_list_pages_newest_first(backend: Backend) {
    let test_store = TestStore::new(backend).await;
    let owner = create_user(&test_store, "alice").await;
    let mut ids = Vec::new();
    for index in 0..3u8 {
        let record = plugin(owner, &format!("p{index}"), Visibility::Private, &[index]);
        test_store
            .store
            .insert_plugin(&record, &[index])
            .await
            .unwrap();
        ids.push(record.id);
    }

    let first_page = test_store
        .store
        .list_visible_plugins(owner, None, 2)
        .await
        .unwrap();
    let second_page = test_store
        .store
        .list_visible_plugins(owner, Some(first_page[1].id), 2)
        .await
        .unwrap();

    let first_ids: Vec<_> = first_page.iter().map(|plugin| plugin.id).collect();
    let second_ids: Vec<_> = second_page.iter().map(|plugin| plugin.id).collect();
    assert_eq!(first_ids, vec![ids[2], ids[1]]);
    assert_eq!(second_ids, vec![ids[0]]);
}

on_both_stores!(
    inserted_plugin_reads_back,
    private_plugin_is_invisible_to_others,
    duplicate_name_for_one_owner_is_rejected,
    shared_bytes_survive_until_last_delete,
    plugin_list_pages_newest_first,
);
