"""The AWS side of imagescan run on one machine, with no account: ``template.yaml``'s resources created in moto,
Step Functions executing the real state machine, the real Lambda handlers run in-process, and image blobs served
by a local ``docker-registry`` standing in for the ECR host; for cross-account scanning, ``registry-account.yaml``
deployed in other moto accounts, with the IAM decisions moto does not make taken from the templates' policies
(:mod:`localpipeline.accounts`). Used by ``scripts/local-pipeline`` and by the AWS tests (``tests/aws``). Never
part of the Lambda layer."""
