//! Transitive group membership: every member a group reaches, through nested groups, with
//! the chain of groups it comes through, computed once per group and cached for the run.
//!
//! Cycles (group A in B in A) are cut where a group is met again; deleted members (names that
//! resolve to nothing in a complete directory, such as a stale SID) are kept as such; dynamic
//! distribution groups, and groups whose members were not read, are members that are not
//! expanded.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use sharedbox_tenant::{Directory, LivePrincipal, PrincipalId, Recipient};

/// One member a group reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Member {
    /// A recipient of the directory: a user, a contact, a nested group, a service principal.
    Recipient(PrincipalId),
    /// A name that resolves to nothing although every kind of principal was looked up: a
    /// member deleted since (Exchange shows its stale SID or name).
    Deleted(String),
    /// A name that resolves to nothing in a directory that is incomplete (a read of
    /// `Get-User`, `Get-Group` or `Get-ServicePrincipal` was refused), or to several
    /// recipients: it may exist.
    Unresolved(String),
}

/// Every member one group reaches, each once, by the shortest chain of groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The members in breadth-first order, each with the chain of groups from the expanded
    /// group (first) to the group that holds it directly (last).
    pub members: Vec<(Member, Rc<[PrincipalId]>)>,
    /// Whether the expansion met a group that contains itself (a cycle); it is cut there.
    pub cyclic: bool,
}

impl Expansion {
    /// How many members are not groups: the people (and other principals) the group gives
    /// its rights to. Deleted and unresolved members count, as Exchange counts them.
    pub fn people(&self, directory: &Directory) -> usize {
        self.members
            .iter()
            .filter(|(m, _)| match m {
                Member::Recipient(id) => !directory.get(id).is_some_and(Recipient::is_group),
                Member::Deleted(_) | Member::Unresolved(_) => true,
            })
            .count()
    }

    /// Whether `member` is reached.
    pub fn contains(&self, member: &PrincipalId) -> bool {
        self.members
            .iter()
            .any(|(m, _)| matches!(m, Member::Recipient(id) if id == member))
    }
}

/// The groups of a directory, expanded on demand and cached: one expansion per group per run.
#[derive(Debug)]
pub struct Membership<'a> {
    directory: &'a Directory,
    cache: RefCell<HashMap<PrincipalId, Rc<Expansion>>>,
}

impl<'a> Membership<'a> {
    /// The membership of `directory`'s groups (their [`Recipient::members`]).
    pub fn new(directory: &'a Directory) -> Membership<'a> {
        Membership {
            directory,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// The directory it follows.
    pub fn directory(&self) -> &'a Directory {
        self.directory
    }

    /// Whether `group`'s members are known: it is a group, not dynamic, and its members were read.
    pub fn expandable(recipient: &Recipient) -> bool {
        recipient.is_group()
            && recipient.group_kind() != Some(sharedbox_tenant::GroupKind::Dynamic)
            && recipient.members.is_some()
    }

    /// Every member `group` reaches (empty for anything that is not an expandable group).
    pub fn expand(&self, group: &PrincipalId) -> Rc<Expansion> {
        if let Some(found) = self.cache.borrow().get(group) {
            return found.clone();
        }
        let expansion = Rc::new(self.compute(group));
        self.cache
            .borrow_mut()
            .insert(group.clone(), expansion.clone());
        expansion
    }

    /// Whether a grant to `holder` reaches `member`: the same recipient, or `holder` is a
    /// group `member` is in, directly or through nested groups.
    pub fn reaches(&self, holder: &PrincipalId, member: &PrincipalId) -> bool {
        holder == member || self.expand(holder).contains(member)
    }

    fn compute(&self, root: &PrincipalId) -> Expansion {
        let mut expansion = Expansion::default();
        let Some(group) = self.directory.get(root).filter(|r| Self::expandable(r)) else {
            return expansion;
        };
        let mut seen: HashSet<Member> = HashSet::new();
        let mut queue: VecDeque<(&Recipient, Rc<[PrincipalId]>)> = VecDeque::new();
        queue.push_back((group, Rc::from(vec![root.clone()])));
        let mut expanded: HashSet<PrincipalId> = HashSet::from([root.clone()]);
        while let Some((group, path)) = queue.pop_front() {
            for name in group.members.as_deref().unwrap_or_default() {
                let member = match self.directory.resolve_live(name) {
                    LivePrincipal::BuiltIn => continue,
                    LivePrincipal::Recipient(r) => {
                        let id = PrincipalId::of(r);
                        if path.contains(&id) {
                            // A group on the chain to here contains itself.
                            expansion.cyclic = true;
                            continue;
                        }
                        if Self::expandable(r) && expanded.insert(id.clone()) {
                            let mut deeper = path.to_vec();
                            deeper.push(id.clone());
                            queue.push_back((r, Rc::from(deeper)));
                        }
                        Member::Recipient(id)
                    }
                    LivePrincipal::Orphaned => Member::Deleted(name.trim().to_owned()),
                    LivePrincipal::Unresolved | LivePrincipal::Ambiguous(_) => {
                        Member::Unresolved(name.trim().to_owned())
                    }
                };
                if seen.insert(member.clone()) {
                    expansion.members.push((member, path.clone()));
                }
            }
        }
        expansion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(name: &str, details: &str, members: Option<&[&str]>) -> Recipient {
        Recipient {
            guid: format!("guid-{name}"),
            name: name.to_owned(),
            display_name: name.to_owned(),
            primary_smtp_address: format!("{name}@contoso.com"),
            recipient_type_details: details.to_owned(),
            members: members.map(|m| m.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into()),
            ..Recipient::default()
        }
    }

    fn id(name: &str) -> PrincipalId {
        PrincipalId(format!("guid-{name}"))
    }

    fn names(expansion: &Expansion) -> Vec<(String, Vec<String>)> {
        expansion
            .members
            .iter()
            .map(|(m, path)| {
                let m = match m {
                    Member::Recipient(id) => id.0.trim_start_matches("guid-").to_owned(),
                    Member::Deleted(n) => format!("deleted:{n}"),
                    Member::Unresolved(n) => format!("unresolved:{n}"),
                };
                let path = path
                    .iter()
                    .map(|p| p.0.trim_start_matches("guid-").to_owned())
                    .collect();
                (m, path)
            })
            .collect()
    }

    #[test]
    fn nested_groups_are_expanded_with_their_paths_and_cycles_are_cut() {
        let directory = Directory::new([
            recipient("anna", "UserMailbox", None),
            recipient("ben", "UserMailbox", None),
            recipient(
                "outer",
                "MailUniversalSecurityGroup",
                Some(&["anna", "inner"]),
            ),
            // `inner` contains `outer` again: a cycle.
            recipient(
                "inner",
                "MailUniversalSecurityGroup",
                Some(&["ben", "outer", "anna"]),
            ),
        ]);
        let membership = Membership::new(&directory);
        let outer = membership.expand(&id("outer"));
        assert_eq!(
            names(&outer),
            [
                ("anna".to_owned(), vec!["outer".to_owned()]),
                ("inner".to_owned(), vec!["outer".to_owned()]),
                (
                    "ben".to_owned(),
                    vec!["outer".to_owned(), "inner".to_owned()]
                ),
            ],
            "anna once, by the shorter path"
        );
        assert!(outer.cyclic);
        assert_eq!(outer.people(&directory), 2);
        assert!(membership.reaches(&id("inner"), &id("anna")));
        assert!(membership.reaches(&id("anna"), &id("anna")));
        assert!(!membership.reaches(&id("anna"), &id("ben")));
    }

    #[test]
    fn deleted_members_are_kept_and_dynamic_groups_are_not_expanded() {
        let directory = Directory::new([
            recipient("anna", "UserMailbox", None),
            recipient("everyone", "DynamicDistributionGroup", Some(&["anna"])),
            recipient(
                "team",
                "MailUniversalSecurityGroup",
                Some(&["S-1-5-21-9-9-9-1234", "everyone", "NT AUTHORITY\\SELF"]),
            ),
        ]);
        let membership = Membership::new(&directory);
        let team = membership.expand(&id("team"));
        assert_eq!(
            names(&team),
            [
                (
                    "deleted:S-1-5-21-9-9-9-1234".to_owned(),
                    vec!["team".to_owned()]
                ),
                ("everyone".to_owned(), vec!["team".to_owned()]),
            ],
            "the dynamic group is a member, its filter is not guessed"
        );
        assert!(!team.contains(&id("anna")));
        assert!(membership.expand(&id("everyone")).members.is_empty());
        let mut incomplete = directory.clone();
        incomplete.mark_incomplete();
        let membership = Membership::new(&incomplete);
        assert!(matches!(
            &membership.expand(&id("team")).members[0].0,
            Member::Unresolved(n) if n == "S-1-5-21-9-9-9-1234"
        ));
    }

    #[test]
    fn a_group_whose_members_were_not_read_reaches_nobody() {
        let directory = Directory::new([
            recipient("anna", "UserMailbox", None),
            recipient("team", "MailUniversalSecurityGroup", None),
        ]);
        let membership = Membership::new(&directory);
        assert!(membership.expand(&id("team")).members.is_empty());
        assert!(!membership.reaches(&id("team"), &id("anna")));
    }
}
