/** A key name (`keys: { name }`): a file name in the keys directory, never a path (no slash, no leading dot). */
export const KEY_NAME_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$';
