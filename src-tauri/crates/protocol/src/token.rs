use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The bearer token of the plant link. It prints as `<redacted>` and cannot be serialised,
/// so it cannot reach a log line, a panic message, an event or a file by accident; the only
/// way to its text is [`Token::expose`], used where the `Authorization` header is built or
/// checked. Its bytes are wiped when it is dropped, so a freed copy does not linger in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// `None` for an empty or all-blank token, which no server should accept. The text it was
    /// made from is wiped.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = Zeroizing::new(text.into());
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(Token(trimmed.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header value, wiped when dropped.
    pub fn bearer(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("Bearer {}", self.0))
    }

    /// Compares in time independent of where the texts differ, for servers checking a token.
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        let mut diff = a.len() ^ b.len();
        for (i, x) in a.iter().enumerate() {
            diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
        }
        diff == 0
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Token {}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_text() {
        let t = Token::new("hunter2-secret").expect("non-empty");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(format!("{t}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&t)), "Some(Token(<redacted>))");
    }

    #[test]
    fn matching() {
        let t = Token::new(" abc \n").expect("non-empty");
        assert!(t.matches("abc"));
        assert!(!t.matches("abd"));
        assert!(!t.matches("ab"));
        assert!(!t.matches("abcd"));
        assert!(!t.matches(""));
        assert_eq!(Token::new("   "), None);
        assert_eq!(t.bearer().as_str(), "Bearer abc");
    }

    #[test]
    fn its_bytes_are_wiped_on_drop() {
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<Token>();
        // What `drop` does, seen on a token still in reach.
        let mut t = Token::new("wipe-me").expect("non-empty");
        t.0.zeroize();
        assert!(t.0.is_empty());
    }
}
