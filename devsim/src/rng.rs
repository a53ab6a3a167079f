//! A small deterministic random generator: device content must be reproducible from a seed,
//! and host keys, serials and configs are not security sensitive, so no crypto RNG is needed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// SplitMix64: tiny, fast, and good enough for generated text.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Rng {
    #[cfg(test)]
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator seeded from several values (e.g. device seed, hostname, purpose).
    pub(crate) fn from_parts(parts: &[&[u8]]) -> Self {
        Rng(hash(parts))
    }

    /// A generator for values that must differ on every read (re-salted secrets, counters).
    pub(crate) fn fresh() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Rng(nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    fn chars_from(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    /// Lowercase hexadecimal digits.
    pub(crate) fn hex(&mut self, n: usize) -> String {
        self.chars_from(b"0123456789abcdef", n)
    }

    /// Uppercase hexadecimal digits.
    pub(crate) fn hex_upper(&mut self, n: usize) -> String {
        self.chars_from(b"0123456789ABCDEF", n)
    }

    /// Characters of the crypt(3) alphabet, as in `$6$salt$hash` and Cisco type 9 secrets.
    pub(crate) fn crypt64(&mut self, n: usize) -> String {
        self.chars_from(CRYPT64, n)
    }

    /// Standard base64 of `n` random bytes, with padding.
    pub(crate) fn base64(&mut self, n: usize) -> String {
        let bytes = self.bytes(n);
        encode_base64(&bytes)
    }

    /// A string following a pattern: `#` digit, `?` uppercase letter, `@` uppercase letter or
    /// digit; any other character is copied (so serial prefixes like `FOC` stay literal).
    pub(crate) fn pattern(&mut self, pattern: &str) -> String {
        pattern
            .chars()
            .map(|c| match c {
                '#' => char::from(*self.pick(b"0123456789")),
                '?' => char::from(*self.pick(b"ABCDEFGHJKLMNPQRSTUVWXYZ")),
                '@' => char::from(*self.pick(b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")),
                other => other,
            })
            .collect()
    }
}

/// FNV-1a over several byte strings, each followed by a separator so ("ab","c") != ("a","bc").
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Standard base64 with padding (a few secrets are shown this way, e.g. FortiOS `ENC`).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_patterned() {
        let a = Rng::new(7).pattern("JAD####X@@?");
        assert_eq!(a, Rng::new(7).pattern("JAD####X@@?"));
        assert_eq!(a.len(), 11);
        assert!(a.starts_with("JAD"));
        assert!(a.as_bytes()[10].is_ascii_uppercase());
        assert_eq!(
            encode_base64(b"any carnal pleas"),
            "YW55IGNhcm5hbCBwbGVhcw=="
        );
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
    }
}
