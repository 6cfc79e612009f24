import * as z from 'zod';
const n = z.number().int().min(0);
console.log(n._zod.bag, n._zod.def.checks?.map((c: any) => c._zod.def));
const d = z.number().int().default(3).meta({ arg: 'N', description: 'x' });
console.log(z.globalRegistry.get(d), d._zod.def.defaultValue, (d as any)._zod.def.innerType._zod.bag);
const p = z.number().int().optional().prefault(undefined as never);
console.log(JSON.stringify(z.toJSONSchema(z.object({a: z.number().int().default(3), b: z.number().optional(), c: z.union([z.number(), z.string()]).transform(String).prefault('1')}), {io:'input'})));
