import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import { pathToString } from '@bufbuild/protobuf/reflect';
import { InvalidArgumentError } from '../errors.js';

const validator = createValidator();

/** Enforces the protovalidate rules declared in the proto; throws naming every bad field. */
export function validate<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const result = validator.validate(schema, message);
  if (result.kind === 'valid') return;
  if (result.kind === 'invalid') {
    throw new InvalidArgumentError(
      result.violations.map((v) => ({ field: pathToString(v.field) || schema.name, description: v.message })),
      schema.name,
    );
  }
  throw result.error;
}
