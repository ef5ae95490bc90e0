// include/linux/err.h: pointers that carry an error number.

export class ErrPtr {
  constructor(readonly errno: number) {}
}

export function ERR_PTR(errno: number): ErrPtr {
  return new ErrPtr(errno);
}

export function IS_ERR(x: unknown): x is ErrPtr {
  return x instanceof ErrPtr;
}

export function PTR_ERR(x: ErrPtr): number {
  return x.errno;
}

export function IS_ERR_OR_NULL(x: unknown): x is ErrPtr | null | undefined {
  return x === null || x === undefined || x instanceof ErrPtr;
}
