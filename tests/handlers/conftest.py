import pytest
from moto import mock_aws

from tests.handlers.moto_aws import Aws


@pytest.fixture
def aws():
    with mock_aws():
        yield Aws()
