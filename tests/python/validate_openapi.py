"""Validates an OpenAPI document with openapi-spec-validator (3.0 and 3.1 schemas).

    python validate_openapi.py FILE
"""

import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

spec, _ = read_from_filename(sys.argv[1])
validate(spec)  # raises on the first error
print(f"{sys.argv[1]}: valid OpenAPI {spec['openapi']}, {len(spec['paths'])} paths")
