use sea_orm::{ConnectionTrait, Statement};
use workflows_tests::workflows_store::StoreError;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    tokens_authenticate_until_revoked_expired_or_deactivated,
    tokens_are_stored_only_hashed,
    usernames_are_unique_and_checked,
    token_secrets_carry_256_random_bits,
);

/// Each secret is 32 bytes from the OS generator (256 bits, twice the 128 asked for): distinct, and
/// with ones and zeros in balance across many (a constant or counter-based secret fails this).
async fn token_secrets_carry_256_random_bits(db: TestDb) {
    let s = &db.store;
    let alice = s.create_user("alice", "", false).await.expect("user");
    let mut secrets = std::collections::BTreeSet::new();
    let mut ones = 0u32;
    for _ in 0..64 {
        let secret = s
            .create_token(alice.id, "", None)
            .await
            .expect("token")
            .secret;
        let random = secret.strip_prefix("wfk_").expect("prefixed");
        assert_eq!(random.len(), 64, "256 bits in hex");
        for pair in random.as_bytes().chunks(2) {
            let byte =
                u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex");
            ones += byte.count_ones();
        }
        assert!(secrets.insert(secret));
    }
    let share = f64::from(ones) / f64::from(64 * 256);
    assert!(
        (0.45..0.55).contains(&share),
        "{share} of the bits are ones"
    );
}

async fn tokens_authenticate_until_revoked_expired_or_deactivated(db: TestDb) {
    let s = &db.store;
    let alice = s
        .create_user("alice", "a@example.com", false)
        .await
        .expect("user");
    let made = s
        .create_token(alice.id, "laptop", None)
        .await
        .expect("token");
    assert!(made.secret.starts_with("wfk_"));
    assert_eq!(made.secret.len(), 4 + 64);
    assert!(made.secret.starts_with(&made.token.prefix));
    let who = s
        .authenticate(&made.secret)
        .await
        .expect("auth")
        .expect("valid token");
    assert_eq!(who.user, alice);
    assert!(
        s.authenticate("wfk_not-a-token")
            .await
            .expect("auth")
            .is_none()
    );
    // last_used_at is recorded.
    let listed = s.list_tokens().await.expect("tokens");
    assert!(listed[0].last_used_at.is_some());
    // Revoked by prefix.
    s.revoke_token(&made.token.prefix).await.expect("revoke");
    assert!(s.authenticate(&made.secret).await.expect("auth").is_none());
    // Expired.
    let past = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let expired = s
        .create_token(alice.id, "old", Some(past))
        .await
        .expect("token");
    assert!(
        s.authenticate(&expired.secret)
            .await
            .expect("auth")
            .is_none()
    );
    // Inactive user.
    let fresh = s
        .create_token(alice.id, "fresh", None)
        .await
        .expect("token");
    assert!(s.authenticate(&fresh.secret).await.expect("auth").is_some());
    s.set_user_active("alice", false).await.expect("deactivate");
    assert!(s.authenticate(&fresh.secret).await.expect("auth").is_none());
    assert!(matches!(
        s.revoke_token("999999").await,
        Err(StoreError::NotFound)
    ));
}

async fn tokens_are_stored_only_hashed(db: TestDb) {
    let s = &db.store;
    let alice = s.create_user("alice", "", false).await.expect("user");
    let made = s.create_token(alice.id, "ci", None).await.expect("token");
    let raw = db.raw().await;
    let rows = raw
        .query_all_raw(Statement::from_string(
            raw.get_database_backend(),
            "SELECT prefix, token_hash, name FROM workflows_apitoken",
        ))
        .await
        .expect("select");
    assert_eq!(rows.len(), 1);
    let hash: String = rows[0].try_get("", "token_hash").expect("hash");
    let prefix: String = rows[0].try_get("", "prefix").expect("prefix");
    assert_eq!(
        hash,
        workflows_tests::workflows_store::hash_token(&made.secret)
    );
    assert_ne!(hash, made.secret);
    assert!(!hash.contains(&made.secret[4..]));
    assert_eq!(prefix.len(), 12);
}

async fn usernames_are_unique_and_checked(db: TestDb) {
    let s = &db.store;
    s.create_user("alice", "", false).await.expect("user");
    assert!(matches!(
        s.create_user("alice", "", true).await,
        Err(StoreError::DuplicateUsername(_))
    ));
    assert!(matches!(
        s.create_user("has space", "", false).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.create_user(&"x".repeat(151), "", false).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.count_users().await.expect("count"), 1);
}
