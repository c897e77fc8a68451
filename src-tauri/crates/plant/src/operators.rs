//! Who may connect, and as whom: each token names one operator with a name and a role. The
//! list comes from `--token` (one operator named `operator`) or from `--operators FILE`, one
//! operator a line:
//!
//! ```text
//! # NAME  ROLE        SECRET
//! ana     operator    sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! ben     supervisor  sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
//! wall    viewer      a-plain-token   # accepted, with a warning at start
//! ```
//!
//! A token is looked up by its SHA-256, so the file need not hold any token itself. Neither a
//! token nor its hash is ever logged or put in an error.

use crate::error::PlantError;
use brewdeck_protocol::{Operator, Role, Token, BY_PLANT};
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::Path;

/// A token's SHA-256.
pub(crate) type Digest = [u8; 32];

/// The name `--token` gives its one operator.
pub(crate) const TOKEN_OPERATOR: &str = "operator";
/// The largest operators file read: a list of people, not a database.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// The longest operator name: it is in every acknowledgement, shelving and journal entry.
const MAX_NAME_CHARS: usize = 64;
const SHA256_PREFIX: &str = "sha256:";

pub(crate) fn digest(token: &str) -> Digest {
    Sha256::digest(token.as_bytes()).into()
}

/// Who a connection is: the operator its token names, and that token's digest (to tell,
/// after a reload, whether the token still names the same operator).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub operator: Operator,
    pub digest: Digest,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the digest: it identifies the token.
        write!(f, "Identity({} {})", self.operator.name, self.operator.role)
    }
}

/// The operators a plant knows.
#[derive(Clone, Default)]
pub(crate) struct Operators {
    entries: Vec<(Digest, Operator)>,
}

impl std::fmt::Debug for Operators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|(_, o)| format!("{} {}", o.name, o.role)),
            )
            .finish()
    }
}

/// A file read: its operators, and the lines whose secret is a plain token (to warn about).
#[derive(Debug)]
pub(crate) struct Loaded {
    pub operators: Operators,
    pub plain_lines: Vec<usize>,
}

impl Operators {
    /// `--token T`: one operator named `operator`, with the role `operator`.
    pub fn single(token: &Token) -> Operators {
        Operators {
            entries: vec![(
                digest(token.expose()),
                Operator {
                    name: TOKEN_OPERATOR.to_owned(),
                    role: Role::Operator,
                },
            )],
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The operator a presented token names. Every entry is compared, each in constant time,
    /// so the time taken says nothing about which (or whether one) matched.
    pub fn find(&self, presented: &str) -> Option<Identity> {
        let wanted = digest(presented.trim());
        let mut found = None;
        for (d, operator) in &self.entries {
            if same(d, &wanted) {
                found = Some(operator);
            }
        }
        found.map(|operator| Identity {
            operator: operator.clone(),
            digest: wanted,
        })
    }

    /// Whether `identity`'s token still names the same operator with the same role here.
    pub fn still_names(&self, identity: &Identity) -> bool {
        self.entries
            .iter()
            .any(|(d, o)| same(d, &identity.digest) && *o == identity.operator)
    }

    /// Reads an operators file; a bad line is an error naming the file and the line.
    pub fn read(path: &Path) -> Result<Loaded, PlantError> {
        let refused = |reason: String| PlantError::OperatorsFile {
            path: path.to_owned(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| refused(e.to_string()))?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| refused(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(refused(format!("over {MAX_FILE_BYTES} bytes")));
        }
        let text = String::from_utf8(bytes).map_err(|_| refused("not UTF-8 text".to_owned()))?;
        let loaded = parse(&text).map_err(|(line, reason)| PlantError::OperatorsLine {
            path: path.to_owned(),
            line,
            reason,
        })?;
        if loaded.operators.entries.is_empty() {
            return Err(refused("it names no operator".to_owned()));
        }
        Ok(loaded)
    }
}

/// Compares two digests in time independent of where they differ.
fn same(a: &Digest, b: &Digest) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Parses the file's text; an error is `(line number, why)`, never quoting a secret.
pub(crate) fn parse(text: &str) -> Result<Loaded, (usize, String)> {
    let mut operators = Operators::default();
    let mut plain_lines = Vec::new();
    // Where each name and secret was first seen, to say so on a duplicate.
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut secrets: Vec<(Digest, usize)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or_default();
        let fields: Vec<&str> = content.split_whitespace().collect();
        let (name, role, secret) = match fields.as_slice() {
            [] => continue,
            [name, role, secret] => (*name, *role, *secret),
            other => {
                return Err((
                    line,
                    format!(
                        "{} fields; a line is NAME ROLE SECRET, separated by spaces",
                        other.len()
                    ),
                ))
            }
        };
        check_name(name).map_err(|why| (line, why))?;
        let role = Role::parse(role).ok_or_else(|| {
            (
                line,
                format!("unknown role {role:?}: viewer, operator or supervisor"),
            )
        })?;
        let digest = match secret.strip_prefix(SHA256_PREFIX) {
            Some(hex) => from_hex(hex).ok_or_else(|| {
                (
                    line,
                    format!("after {SHA256_PREFIX} the secret must be 64 hex digits"),
                )
            })?,
            None => {
                plain_lines.push(line);
                digest(secret)
            }
        };
        let folded = name.to_lowercase();
        if let Some((_, first)) = names.iter().find(|(n, _)| *n == folded) {
            return Err((line, format!("{name:?} is already named on line {first}")));
        }
        if let Some((_, first)) = secrets.iter().find(|(d, _)| same(d, &digest)) {
            return Err((line, format!("the same secret as line {first}")));
        }
        names.push((folded, line));
        secrets.push((digest, line));
        operators.entries.push((
            digest,
            Operator {
                name: name.to_owned(),
                role,
            },
        ));
    }
    Ok(Loaded {
        operators,
        plain_lines,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    if name.eq_ignore_ascii_case(BY_PLANT) {
        return Err(format!(
            "{name:?} is reserved: the journal names the plant itself so"
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a name is at most {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a name has no control characters".to_owned());
    }
    Ok(())
}

fn from_hex(hex: &str) -> Option<Digest> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(high * 16 + low).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hex(d: &Digest) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn names_roles_and_hashed_or_plain_secrets() {
        let text = format!(
            "# the day shift\n\n  ana\toperator  sha256:{}  # trailing comment\nben supervisor sha256:{}\nwall viewer wall-token\n",
            hex(&digest("ana-token")),
            hex(&digest("ben-token")).to_uppercase(),
        );
        let loaded = parse(&text).unwrap();
        assert_eq!(loaded.plain_lines, [5]);
        let ops = loaded.operators;
        assert_eq!(ops.len(), 3);
        let ana = ops.find("ana-token").unwrap();
        assert_eq!(
            ana.operator,
            Operator {
                name: "ana".into(),
                role: Role::Operator
            }
        );
        assert_eq!(
            ops.find(" ben-token ").unwrap().operator.role,
            Role::Supervisor
        );
        assert_eq!(ops.find("wall-token").unwrap().operator.role, Role::Viewer);
        assert!(ops.find("nobody").is_none());
        assert!(ops.find("sha256:").is_none());
        assert!(ops.still_names(&ana));
        // Never the digest in a debug print.
        assert!(!format!("{ana:?} {ops:?}").contains(&hex(&ana.digest)));
    }

    #[test]
    fn each_bad_line_says_its_number_and_never_the_secret() {
        let ok = format!("ana operator sha256:{}\n", hex(&digest("a")));
        for (bad, why) in [
            ("ben operator\n", "2 fields"),
            ("ben operator b extra\n", "4 fields"),
            ("ben admin b-secret\n", "unknown role"),
            ("ben operator sha256:abc\n", "64 hex digits"),
            (
                &*format!("ben operator sha256:{}\n", "g".repeat(64)),
                "64 hex digits",
            ),
            ("ANA viewer other-secret\n", "already named on line 1"),
            ("ben viewer a\n", "the same secret as line 1"),
            ("plant viewer p-secret\n", "reserved"),
        ] {
            let text = format!("{ok}{bad}");
            let (line, reason) = parse(&text).unwrap_err();
            assert_eq!(line, 2, "{bad}");
            assert!(reason.contains(why), "{bad}: {reason}");
            assert!(!reason.contains("secret\""), "{reason}");
            assert!(!reason.contains("b-secret") && !reason.contains("other-secret"));
        }
    }

    #[test]
    fn a_token_names_one_operator_called_operator() {
        let ops = Operators::single(&Token::new("t-1").unwrap());
        let who = ops.find("t-1").unwrap();
        assert_eq!(who.operator.name, TOKEN_OPERATOR);
        assert_eq!(who.operator.role, Role::Operator);
        assert!(ops.find("t-2").is_none());
    }
}
