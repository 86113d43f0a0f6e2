import { createHash } from 'node:crypto';

/**
 * Order-independent hash of a member set (`room nick` pairs and nicks, folded): a node puts its
 * own in every heartbeat, the others compare it with theirs for that node and re-sync on a
 * mismatch, so drift heals within a heartbeat or two without sending whole member lists.
 */
export function presenceDigest(items: string[]): string {
  items.sort();
  return createHash('sha1').update(items.join('\n')).digest('hex').slice(0, 16);
}
