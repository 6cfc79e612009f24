import * as z from 'zod';
const mods = ['start', 'run', 'env', 'browser', 'flows', 'tail', 'replay', 'ui', 'mocks', 'ca'];
const seen = new Map<string, number>();
for (const m of mods) {
  const mod = await import(`../src/cli/${m}.ts`);
  for (const [name, v] of Object.entries(mod)) {
    if (!(v instanceof z.ZodObject)) continue;
    for (const [key, prop] of Object.entries((v as z.ZodObject).shape)) {
      const chain: string[] = [];
      let s: any = prop;
      while (s) {
        const d = s._zod.def;
        chain.push(d.type + (d.type === 'number' ? `(${s._zod.bag.format ?? ''})` : ''));
        s = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
        if (d.type === 'array') chain.push('[' + d.element._zod.def.type + ']');
        if (d.type === 'union') chain.push('{' + d.options.map((o: any) => o._zod.def.type).join('|') + '}');
      }
      const k = chain.join('>');
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
  }
}
for (const [k, v] of [...seen].sort()) console.log(v, k);
