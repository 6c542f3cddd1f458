// The inspector form's validator: @rjsf's interface over lib/jsonSchema's interpreting checker,
// in place of @rjsf/validator-ajv8, whose Ajv compiles schemas with `new Function` — refused by
// the Content-Security-Policy (orchestrator/security_headers.py: no 'unsafe-eval').
import type {
  CustomValidator,
  ErrorTransformer,
  RJSFSchema,
  RJSFValidationError,
  UiSchema,
  ValidationData,
  ValidatorType,
} from "@rjsf/utils";
import {
  createErrorHandler,
  getDefaultFormState,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
} from "@rjsf/utils";

import type { SchemaError } from "../../lib/jsonSchema";
import { schemaErrors } from "../../lib/jsonSchema";

type Data = unknown;

function asFormError(error: SchemaError): RJSFValidationError {
  const base = error.instancePath.replace(/\//g, ".");
  const missing = error.params.missingProperty;
  const property = typeof missing === "string" && missing ? `${base}.${missing}` : base;
  return {
    name: error.keyword,
    property,
    message: error.message,
    params: error.params,
    stack: `${property} ${error.message}`.trim(),
    schemaPath: error.schemaPath,
  };
}

export class InterpretingValidator implements ValidatorType<Data, RJSFSchema> {
  rawValidation<Result = SchemaError>(
    schema: RJSFSchema,
    formData?: Data,
  ): { errors?: Result[]; validationError?: Error } {
    try {
      return { errors: schemaErrors(schema, formData) as Result[] };
    } catch (error) {
      return { validationError: error as Error };
    }
  }

  validateFormData(
    formData: Data,
    schema: RJSFSchema,
    customValidate?: CustomValidator<Data, RJSFSchema>,
    transformErrors?: ErrorTransformer<Data, RJSFSchema>,
    uiSchema?: UiSchema<Data, RJSFSchema>,
  ): ValidationData<Data> {
    const raw = this.rawValidation(schema, formData);
    let errors = (raw.errors ?? []).map(asFormError);
    if (raw.validationError) errors = [...errors, { stack: raw.validationError.message }];
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema<Data>(errors);
    if (!customValidate) return { errors, errorSchema };
    const filled = getDefaultFormState<Data, RJSFSchema>(this, schema, formData, schema, true);
    const handler = customValidate(filled, createErrorHandler<Data>(filled), uiSchema, errorSchema);
    return validationDataMerge<Data>({ errors, errorSchema }, unwrapErrorHandler<Data>(handler));
  }

  isValid(schema: RJSFSchema, formData: Data, rootSchema: RJSFSchema): boolean {
    try {
      return schemaErrors(schema, formData, rootSchema).length === 0;
    } catch {
      return false; // a $ref that does not resolve: as Ajv's validator answers
    }
  }
}

export const schemaValidator = new InterpretingValidator();
