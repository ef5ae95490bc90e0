// kernel/printk/printk.c: the kernel log. Lines go to the machine's dmesg and show in the
// trace with the step that printed them.

import { type Gen, log } from '../../engine/ops.js';
import { machine } from '../machine.js';

/** printk's "%#lx": an address, pfn or word as the kernel's messages print it. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

export function* printk(level: string, text: string): Gen<void> {
  const line = `${level}${text}`;
  machine().dmesg.push(line);
  yield* log(line);
}

export const pr_err = (text: string): Gen<void> => printk('<3>', text);
export const pr_warn = (text: string): Gen<void> => printk('<4>', text);
export const pr_info = (text: string): Gen<void> => printk('<6>', text);

/** dev_err() and friends: the message prefixed with the device's name. */
export const dev_err = (dev: { readonly name: string }, text: string): Gen<void> => printk('<3>', `${dev.name}: ${text}`);
export const dev_warn = (dev: { readonly name: string }, text: string): Gen<void> => printk('<4>', `${dev.name}: ${text}`);
export const dev_info = (dev: { readonly name: string }, text: string): Gen<void> => printk('<6>', `${dev.name}: ${text}`);
