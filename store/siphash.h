/* SipHash-1-3 (Aumasson and Bernstein): a keyed 64-bit hash of a byte
 * string. Without the 128-bit key nobody can predict its output, so it
 * serves both as a hash-flooding-proof table hash (IMAP THREAD's id
 * tables) and as a short message authentication code (SRS addresses,
 * srs.h), where only we make and check the values. */
#ifndef PB_SIPHASH_H
#define PB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The key as two 64-bit words (k0, k1); message words are read
 * little-endian, as the reference implementation does, so the value of a
 * given key and input is the same on every machine. */
uint64_t siphash13(const uint64_t key[2], const void *data, size_t len);

/* The two key words of 16 bytes (little-endian, as the reference
 * implementation reads its key). */
void siphash_key(const uint8_t bytes[16], uint64_t key_r[2]);

#endif
