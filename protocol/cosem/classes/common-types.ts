/** Structured types shared by several interface classes. */
import { UNIT_SYMBOLS } from '../units';
import { t } from './types';

/** scal_unit_type: structure { scaler integer, unit enum } (unit named by its symbol). */
export const SCALER_UNIT = t.struct({ scaler: t.int8(), unit: t.enum({ ...UNIT_SYMBOLS }) });

/** capture_object_definition (Profile generic, selective access). */
export const CAPTURE_OBJECT_DEFINITION = t.struct({
  class_id: t.uint16(),
  logical_name: t.obis(),
  attribute_index: t.int8(),
  data_index: t.uint16(),
});

/** value_definition / cosem_attribute_descriptor without data index (Register monitor, Limiter). */
export const VALUE_DEFINITION = t.struct({ class_id: t.uint16(), logical_name: t.obis(), attribute_index: t.int8() });

/** Script reference (action_item). */
export const ACTION_ITEM = t.struct({ script_logical_name: t.obis(), script_selector: t.uint16() });

/** Register "status" CHOICE: any simple type, or null. */
export const STATUS = t.anySimple();
