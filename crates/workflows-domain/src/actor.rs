//! Who is asking, and what they may see.

use crate::ids::UserId;

/// The caller of an operation: every read and write of the store takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The calling user.
    pub user_id: UserId,
    /// Staff see and change everything.
    pub is_staff: bool,
}

impl Actor {
    /// A regular user.
    pub fn user(user_id: UserId) -> Self {
        Self {
            user_id,
            is_staff: false,
        }
    }

    /// A staff user.
    pub fn staff(user_id: UserId) -> Self {
        Self {
            user_id,
            is_staff: true,
        }
    }

    /// The visibility rule: staff see every workflow; a regular user sees only the workflows they
    /// own (and so the runs of those). A workflow whose owner was deleted is staff-only.
    ///
    /// ```
    /// use workflows_domain::{Actor, UserId};
    /// let alice = Actor::user(UserId(1));
    /// assert!(alice.can_see(Some(UserId(1))));
    /// assert!(!alice.can_see(Some(UserId(2))));
    /// assert!(!alice.can_see(None));
    /// assert!(Actor::staff(UserId(3)).can_see(None));
    /// ```
    pub fn can_see(&self, owner: Option<UserId>) -> bool {
        self.is_staff || owner == Some(self.user_id)
    }

    /// The owner a query must be restricted to: `None` for staff (everything), else the caller.
    pub fn owner_scope(&self) -> Option<UserId> {
        (!self.is_staff).then_some(self.user_id)
    }
}
