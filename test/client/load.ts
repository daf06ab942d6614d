// The web client is plain JavaScript served as is (public/, no build step).
// Node imports its modules directly; the import path is computed so that the
// type checker, which has no declarations for them, leaves them alone.

export async function loadClientModule<T> (name: string): Promise<T> {
  return await import(new URL(`../../public/${name}`, import.meta.url).href) as T
}
