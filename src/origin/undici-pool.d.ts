// undici's Pool module on its own (h1-undici.ts), typed as the Pool its index exports: undici 6 has
// no exports map, and its types cover only the index.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';

  const PoolClass: typeof Pool;
  export = PoolClass;
}
