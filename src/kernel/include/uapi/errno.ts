// include/uapi/asm-generic/errno-base.h and errno.h: the error numbers the model returns
// (negated, as the kernel does).

export const ENOENT = 2;
export const ENXIO = 6;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;

const NAMES: Record<number, string> = {
  [ENOENT]: 'ENOENT',
  [ENXIO]: 'ENXIO',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [ERANGE]: 'ERANGE',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
};

/** "-ENOMEM" for -12. */
export function errname(err: number): string {
  return err < 0 && NAMES[-err] ? `-${NAMES[-err]}` : String(err);
}
