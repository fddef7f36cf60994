/**
 * `types.ts` against `tests/data/protocol/schema.json`, the field list of
 * every TypedDict of `jupyter_sleeptime/protocol.py`: the interfaces are read
 * with the TypeScript compiler, so a field added, removed, made optional or
 * nullable on one side and not the other is a difference.
 */
import * as ts from 'typescript';

/** `required` or `optional`, then `, nullable` when it may be null. */
export type FieldRule = string;

export interface IWireSchema {
  types: Record<string, { python: string; fields: Record<string, FieldRule> }>;
}

/** The fields of every interface of a source file, as schema.json words them. */
export function interfaceFields(
  source: string,
  fileName = 'types.ts'
): Map<string, Record<string, FieldRule>> {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2020);
  const found = new Map<string, Record<string, FieldRule>>();
  for (const statement of file.statements) {
    if (!ts.isInterfaceDeclaration(statement)) {
      continue;
    }
    const fields: Record<string, FieldRule> = {};
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member) || !member.type) {
        continue; // index signatures and methods are not wire fields
      }
      const name = member.name.getText(file).replace(/^['"]|['"]$/g, '');
      const rule = member.questionToken ? 'optional' : 'required';
      fields[name] = rule + (nullable(member.type) ? ', nullable' : '');
    }
    found.set(statement.name.text, fields);
  }
  return found;
}

function nullable(type: ts.TypeNode): boolean {
  if (
    type.kind === ts.SyntaxKind.UnknownKeyword ||
    type.kind === ts.SyntaxKind.AnyKeyword
  ) {
    return true;
  }
  if (ts.isUnionTypeNode(type)) {
    return type.types.some(nullable);
  }
  return (
    ts.isLiteralTypeNode(type) &&
    type.literal.kind === ts.SyntaxKind.NullKeyword
  );
}

/** Every difference between the schema and the interfaces, in words. */
export function wireDifferences(
  schema: IWireSchema,
  interfaces: Map<string, Record<string, FieldRule>>
): string[] {
  const found: string[] = [];
  for (const [name, { python, fields }] of Object.entries(schema.types)) {
    const declared = interfaces.get(name);
    if (!declared) {
      found.push(`${name} (protocol.${python}): not in types.ts`);
      continue;
    }
    for (const [field, rule] of Object.entries(fields)) {
      if (!(field in declared)) {
        found.push(`${name}.${field}: in protocol.${python}, not in types.ts`);
      } else if (declared[field] !== rule) {
        found.push(
          `${name}.${field}: ${rule} in protocol.${python}, ${declared[field]} in types.ts`
        );
      }
    }
    for (const field of Object.keys(declared)) {
      if (!(field in fields)) {
        found.push(`${name}.${field}: in types.ts, not in protocol.${python}`);
      }
    }
  }
  return found;
}
