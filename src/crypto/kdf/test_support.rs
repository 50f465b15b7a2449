//! Searching the whole process for what a derivation must not leave behind (tests only).

use super::{KdfParams, scrub_stack};
use std::io::{Read, Seek, SeekFrom};
use zeroize::Zeroize;

/// The non-zero words of Argon2's final block for one derivation, held masked (XOR with a
/// random word) so that this list itself is not found by the search.
pub(crate) struct FinalBlock {
    mask: u64,
    masked: Vec<u64>,
}

/// Argon2's memory after a derivation by RustCrypto `argon2` (the tag wiped).
#[inline(never)]
fn reference_memory(secret: &[u8], salt: &[u8], p: &KdfParams) -> Vec<argon2::Block> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32)).unwrap();
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut memory = vec![argon2::Block::default(); a.params().block_count()];
    let mut tag = [0u8; 32];
    a.hash_password_into_with_memory(secret, salt, &mut tag, &mut memory)
        .unwrap();
    tag.zeroize();
    memory
}

impl FinalBlock {
    /// Computed with RustCrypto `argon2` in memory of its own, on a thread of its own whose
    /// stack is scrubbed, and the memory wiped before this returns; checks that the search
    /// finds the block while that memory still holds it.
    pub(crate) fn of(secret: &[u8], salt: &[u8], p: &KdfParams) -> Self {
        let (secret, salt, p) = (secret.to_vec(), salt.to_vec(), *p);
        let mut mask = [0u8; 8];
        getrandom::fill(&mut mask).unwrap();
        let mask = u64::from_le_bytes(mask) | 1;
        let mut memory = std::thread::spawn(move || {
            let memory = reference_memory(&secret, &salt, &p);
            scrub_stack();
            memory
        })
        .join()
        .unwrap();
        let mut masked: Vec<u64> = memory[memory.len() - 1]
            .as_ref()
            .iter()
            .filter(|w| **w != 0)
            .map(|w| w ^ mask)
            .collect();
        masked.sort_unstable();
        let this = Self { mask, masked };
        assert!(
            this.words_in_process() >= this.masked.len(),
            "the search does not see the process's heap"
        );
        memory.iter_mut().for_each(Zeroize::zeroize);
        drop(memory);
        this
    }

    /// How many words of the final block occur anywhere in the process's writable memory
    /// (every thread's stack, the heap, every mapping).
    pub(crate) fn words_in_process(&self) -> usize {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut found = 0;
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            if !perms.starts_with("rw") || line.ends_with("[vvar]") {
                continue;
            }
            let Some((start, end)) = range.split_once('-') else {
                continue;
            };
            let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
            else {
                continue;
            };
            let mut at = start;
            while at < end {
                let len = ((end - at) as usize).min(buf.len());
                // A mapping another test frees meanwhile cannot be read: skip it.
                if mem.seek(SeekFrom::Start(at)).is_ok() && mem.read_exact(&mut buf[..len]).is_ok()
                {
                    found += buf[..len]
                        .chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                        .filter(|w| *w != 0 && self.masked.binary_search(&(w ^ self.mask)).is_ok())
                        .count();
                }
                at += len as u64;
            }
        }
        buf.zeroize();
        found
    }
}
