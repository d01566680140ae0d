/**
 * Workflows as configuration: XState JSON definitions bound to named
 * implementations, their validation, building, export and registration.
 */
export { buildMachine, sourceDefinitionOf, type BuildOptions } from './build-machine.ts';
export {
  BUILTIN_IMPLEMENTATIONS,
  catalogOfMachine,
  createCatalog,
  stepActors,
  type ActionImplementation,
  type ActorImplementation,
  type CatalogParts,
  type DelayImplementation,
  type GuardImplementation,
  type ImplementationArgs,
  type ImplementationCatalog,
  type MapperImplementation,
} from './catalog.ts';
export {
  CONFIG_FORMATS,
  jsonFormat,
  namedImplementations,
  tsFormat,
  type DefinitionFormatter,
  type RenderedDefinition,
} from './definition-formats.ts';
export {
  DefinitionService,
  definitionInvalid,
  MemoryDefinitionStore,
  type DefinitionStore,
  type StoredDefinition,
} from './definition-service.ts';
export { exportDefinition, type ExportedDefinition } from './export-definition.ts';
export { compileExpression, evaluateExpression, EXPRESSION_LIMITS, ExpressionError } from './expressions.ts';
export { pointer, type DefinitionIssue, type DefinitionIssueCode } from './issues.ts';
export { validateDefinition, type MachineDefinition, type ValidateOptions } from './validate-definition.ts';
export { compilePhaseWorkflow, DEFAULT_AT_RISK, type CompilePhasesOptions, type CompiledPhases } from './phases/compile-phases.ts';
export { PHASES_FORMAT, type PhaseParameters, type PhaseWorkflow } from './phases/phase-schema.ts';
